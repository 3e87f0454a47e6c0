// Sum of N signed InBits-wide values as a binary tree, pipelined: a register after every
// LevelsPerStage levels and after the last one, all enabled by en_i (the core's pipeline advance).
// Level l holds values of InBits + l bits (a sum of two w-bit values needs w + 1 bits); the caller
// guarantees OutBits holds the full sum (checked below), so nothing is ever truncated.
// Latency = ceil(levels / LevelsPerStage) cycles, levels = ceil(log2 N).
// LevelsPerStage = 1 (a register after every level) keeps every adder a two-input carry chain:
// with two levels between registers yosys merges them into a compressor tree that costs 40 % more
// LUTs (412 against 293 for 28 x 10 bits); the extra registers are cheap (FFs are not scarce).
module tlmm_adder_tree #(
  parameter int unsigned N = 28,
  parameter int unsigned InBits = 10,
  parameter int unsigned OutBits = 15,
  parameter int unsigned LevelsPerStage = 1,
  localparam int unsigned Levels = $clog2(N)
) (
  input  logic                     clk_i,
  input  logic                     en_i,
  input  logic [N*InBits-1:0]      in_i,   // value i at [InBits*i +: InBits]
  output logic [OutBits-1:0]       sum_o
);
  if (N < 2) begin : g_check_n
    $error("tlmm_adder_tree: N = %0d must be at least 2", N);
  end
  if (LevelsPerStage < 1) begin : g_check_stage
    $error("tlmm_adder_tree: LevelsPerStage must be at least 1");
  end
  if (OutBits < InBits + Levels) begin : g_check_width
    $error("tlmm_adder_tree: OutBits = %0d cannot hold the sum of %0d values of %0d bits", OutBits, N, InBits);
  end

  // Values present at a level (level 0 = the inputs).
  function automatic int count_at(input int level);
    int c, l;
    c = N;
    for (l = 0; l < level; l = l + 1) c = (c + 1) / 2;
    count_at = c;  // (no `return`: yosys 0.23 does not parse it)
  endfunction

  // Value i of level l, sign-extended to OutBits, at node[OutBits*(N*l + i) +: OutBits]; slots past
  // count_at(l) are zero. split_var: one vector across levels is not a combinational loop.
  logic [(Levels+1)*N*OutBits-1:0] node /* verilator split_var */;

  for (genvar i = 0; i < N; i++) begin : g_in
    assign node[OutBits*i +: OutBits] = OutBits'($signed(in_i[InBits*i +: InBits]));
  end

  for (genvar l = 1; l <= Levels; l++) begin : g_level
    localparam int Cnt = count_at(l);
    localparam int Prev = count_at(l - 1);
    localparam int unsigned W = InBits + l;       // width of this level's sums
    localparam int unsigned Wp = InBits + l - 1;  // width of the previous level's values
    localparam bit Reg = (l % LevelsPerStage == 0) || (l == Levels);
    for (genvar i = 0; i < N; i++) begin : g_node
      localparam int unsigned Out = OutBits * (N * l + i);
      localparam int unsigned InA = OutBits * (N * (l - 1) + 2 * i);
      localparam int unsigned InB = InA + OutBits;
      if (i < Cnt) begin : g_used
        logic [W-1:0] sum;
        if (2 * i + 1 < Prev) begin : g_add
          assign sum = W'($signed(node[InA +: Wp])) + W'($signed(node[InB +: Wp]));
        end else begin : g_pass
          assign sum = W'($signed(node[InA +: Wp]));
        end
        if (Reg) begin : g_reg
          logic [W-1:0] sum_q;
          always_ff @(posedge clk_i) begin
            if (en_i) sum_q <= sum;
          end
          assign node[Out +: OutBits] = OutBits'($signed(sum_q));
        end else begin : g_comb
          assign node[Out +: OutBits] = OutBits'($signed(sum));
        end
      end else begin : g_unused
        assign node[Out +: OutBits] = '0;
      end
    end
  end

  assign sum_o = node[OutBits*N*Levels +: OutBits];
endmodule
