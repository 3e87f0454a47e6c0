// Accumulator memory of the TLMM core: one word per block of Q output rows (Q accumulators side by
// side), one synchronous read port and one write port. Block RAM: the core reads a block's partial
// sums two cycles before it writes them back, and never reads a block that is still in flight
// (the chunk period is at least one table build, far longer than that distance).
module tlmm_acc_ram #(
  parameter int unsigned Depth = 540,
  parameter int unsigned Width = 352,
  localparam int unsigned AddrBits = (Depth > 1) ? $clog2(Depth) : 1
) (
  input  logic                clk_i,
  input  logic                re_i,
  input  logic [AddrBits-1:0] raddr_i,
  output logic [Width-1:0]    rdata_o,
  input  logic                we_i,
  input  logic [AddrBits-1:0] waddr_i,
  input  logic [Width-1:0]    wdata_i
);
  (* ram_style = "block" *) logic [Width-1:0] mem_q [Depth];
  logic [Width-1:0] rdata_q;

  always_ff @(posedge clk_i) begin
    if (we_i) mem_q[waddr_i] <= wdata_i;
    if (re_i) rdata_q <= mem_q[raddr_i];
  end

  assign rdata_o = rdata_q;
endmodule
