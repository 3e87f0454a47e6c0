// One TLMM table in LUTRAM: Depth x Width, one synchronous write port (the table builder) and Reads
// asynchronous read ports (one per lookup row). Vivado and yosys map it to multi-port LUTRAM
// primitives (RAM64M8 / RAM32M16: one write and seven reads each), replicated for more reads:
// the paper's "full-storage" tables, no selection or negation logic on the read side.
module tlmm_table_ram #(
  parameter int unsigned Depth = 32,
  parameter int unsigned Width = 10,
  parameter int unsigned Reads = 16,
  localparam int unsigned AddrBits = $clog2(Depth)
) (
  input  logic                               clk_i,
  input  logic                               we_i,
  input  logic [AddrBits-1:0]                waddr_i,
  input  logic [Width-1:0]                   wdata_i,
  input  logic [Reads*AddrBits-1:0]          raddr_i,  // read port r at [AddrBits*r +: AddrBits]
  output logic [Reads*Width-1:0]             rdata_o   // read port r at [Width*r +: Width]
);
  if (Depth < 2 || (Depth & (Depth - 1)) != 0) begin : g_check_depth
    $error("tlmm_table_ram: Depth = %0d must be a power of two >= 2", Depth);
  end

  (* ram_style = "distributed" *) logic [Width-1:0] mem_q [Depth];

  always_ff @(posedge clk_i) begin
    if (we_i) mem_q[waddr_i] <= wdata_i;
  end

  for (genvar r = 0; r < Reads; r++) begin : g_read
    assign rdata_o[Width*r +: Width] = mem_q[raddr_i[AddrBits*r +: AddrBits]];
  end
endmodule
