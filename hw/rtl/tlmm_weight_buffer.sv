// The URAM weight buffer (docs/layout.md §2): Buffers halves (2 when double-buffered) of Banks
// banks, each bank one tlmm_uram_bank of WordsPerBuffer index vectors. The halves are different
// URAMs, so the loader writes one half through port A while the core reads the other through
// both ports: Q = 2*Banks index vectors per cycle, rows 2m*Banks + l (port A, word addr) and
// (2m+1)*Banks + l (port B, word addr + 1) of bank l.
// Read latency: ReadLatency cycles (the URAM register, then the half select and ReadLatency - 1
// pipeline registers); reads hold while rd_en_i is low (the core's stall).
module tlmm_weight_buffer #(
  parameter int unsigned Banks = 8,
  parameter int unsigned Buffers = 2,
  parameter int unsigned WordsPerBuffer = 4096,
  parameter int unsigned VecBits = 140,
  parameter int unsigned WrVecs = 4,
  parameter int unsigned ReadLatency = 2,
  localparam int unsigned BufBits = (Buffers > 1) ? $clog2(Buffers) : 1,
  localparam int unsigned WordBits = $clog2(WordsPerBuffer),
  localparam int unsigned Groups = Banks / WrVecs,
  localparam int unsigned GroupBits = (Groups > 1) ? $clog2(Groups) : 1,
  localparam int unsigned Lanes = 2 * Banks
) (
  input  logic                      clk_i,
  // Read port (the core).
  input  logic                      rd_en_i,
  input  logic [BufBits-1:0]        rd_buf_i,
  input  logic [WordBits-1:0]       rd_addr_i,    // the pair (addr, addr + 1): rows l and Banks + l of a block
  output logic [Lanes*VecBits-1:0]  rd_vec_o,     // lane l at [VecBits*l +: VecBits]
  // Write port (the loader).
  input  logic                      wr_en_i,
  input  logic [BufBits-1:0]        wr_buf_i,
  input  logic [WordBits-1:0]       wr_addr_i,
  input  logic [GroupBits-1:0]      wr_group_i,
  input  logic [WrVecs-1:0]         wr_mask_i,
  input  logic [WrVecs*VecBits-1:0] wr_vec_i
);
  if (Buffers != 1 && Buffers != 2) begin : g_check_buffers
    $error("tlmm_weight_buffer: Buffers = %0d must be 1 or 2", Buffers);
  end
  if (ReadLatency < 1) begin : g_check_latency
    $error("tlmm_weight_buffer: ReadLatency must be at least 1");
  end

  logic [Buffers*Lanes*VecBits-1:0] half_rdata;   // half h, lane l at [VecBits*(Lanes*h + l) +: VecBits]
  // Port B reads the next word (the pair need not start on an even word: a chunk of a tile is
  // ceil(rows / Banks) words).
  logic [WordBits-1:0] rd_addr_plus1;
  assign rd_addr_plus1 = rd_addr_i + 1'b1;

  for (genvar h = 0; h < Buffers; h++) begin : g_half
    logic reading;
    assign reading = rd_en_i && (rd_buf_i == BufBits'(h));
    for (genvar b = 0; b < Banks; b++) begin : g_bank
      localparam int unsigned Slot = b % WrVecs;
      localparam int unsigned Group = b / WrVecs;
      logic writing;
      assign writing = wr_en_i && (wr_buf_i == BufBits'(h)) && (wr_group_i == GroupBits'(Group)) && wr_mask_i[Slot];
      tlmm_uram_bank #(.Words(WordsPerBuffer), .Width(VecBits)) u_bank (
        .clk_i,
        .a_en_i(writing || reading), .a_we_i(writing),
        .a_addr_i(writing ? wr_addr_i : rd_addr_i),
        .a_wdata_i(wr_vec_i[VecBits*Slot +: VecBits]),
        .a_rdata_o(half_rdata[VecBits*(Lanes*h + b) +: VecBits]),
        .b_en_i(reading), .b_addr_i(rd_addr_plus1),
        .b_rdata_o(half_rdata[VecBits*(Lanes*h + Banks + b) +: VecBits])
      );
    end
  end

  // Half select, aligned with the URAM output register, then the pipeline registers.
  logic [Lanes*VecBits-1:0] selected;
  if (Buffers > 1) begin : g_select
    logic sel_q;
    always_ff @(posedge clk_i) begin
      if (rd_en_i) sel_q <= rd_buf_i[0];
    end
    assign selected = sel_q ? half_rdata[Lanes*VecBits +: Lanes*VecBits] : half_rdata[0 +: Lanes*VecBits];
  end else begin : g_single
    assign selected = half_rdata;
  end

  logic [ReadLatency*Lanes*VecBits-1:0] pipe;  // stage r at [Lanes*VecBits*r +: Lanes*VecBits]
  assign pipe[0 +: Lanes*VecBits] = selected;
  for (genvar r = 1; r < ReadLatency; r++) begin : g_pipe
    logic [Lanes*VecBits-1:0] stage_q;
    always_ff @(posedge clk_i) begin
      if (rd_en_i) stage_q <= pipe[Lanes*VecBits*(r-1) +: Lanes*VecBits];
    end
    assign pipe[Lanes*VecBits*r +: Lanes*VecBits] = stage_q;
  end
  assign rd_vec_o = pipe[Lanes*VecBits*(ReadLatency-1) +: Lanes*VecBits];

endmodule
