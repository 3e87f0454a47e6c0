// Two-entry output FIFO: the registered end of the core's pipeline. in_ready_o depends on its own
// count only (registered), so the core's stall signal never depends on the consumer combinationally,
// and a full-rate stream passes without bubbles (an entry frees in the cycle it is taken).
module tlmm_out_fifo #(
  parameter int unsigned Width = 352
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             in_valid_i,
  output logic             in_ready_o,
  input  logic [Width-1:0] in_data_i,
  output logic             out_valid_o,
  input  logic             out_ready_i,
  output logic [Width-1:0] out_data_o
);
  logic [Width-1:0] slot_q [2];
  logic             head_q;          // slot holding the oldest entry
  logic [1:0]       count_q;

  logic push, pop;
  assign in_ready_o  = (count_q != 2'd2);
  assign out_valid_o = (count_q != 2'd0);
  assign out_data_o  = slot_q[head_q];
  assign push = in_valid_i && in_ready_o;
  assign pop  = out_valid_o && out_ready_i;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      head_q  <= 1'b0;
      count_q <= 2'd0;
    end else begin
      count_q <= count_q + {1'b0, push} - {1'b0, pop};
      if (pop) head_q <= !head_q;
    end
  end

  // The tail slot: head + count (mod 2), before this cycle's pop.
  always_ff @(posedge clk_i) begin
    if (push) slot_q[head_q ^ count_q[0]] <= in_data_i;
  end
endmodule
