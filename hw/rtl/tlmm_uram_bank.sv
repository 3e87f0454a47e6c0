// One bank of one weight-buffer half: Words index vectors of Width bits (Width <= 72 * cascade,
// so Vivado and yosys map it to `cascade` URAM288 side by side, Words / 4096 deep). Port A reads or
// writes (the loader writes through it, the core reads through it); port B only reads. Reads
// are registered (the URAM's own output register) and hold while their enable is low, so the core
// can stall its pipeline.
module tlmm_uram_bank #(
  parameter int unsigned Words = 4096,
  parameter int unsigned Width = 140,
  localparam int unsigned AddrBits = (Words > 1) ? $clog2(Words) : 1
) (
  input  logic                clk_i,
  input  logic                a_en_i,
  input  logic                a_we_i,
  input  logic [AddrBits-1:0] a_addr_i,
  input  logic [Width-1:0]    a_wdata_i,
  output logic [Width-1:0]    a_rdata_o,
  input  logic                b_en_i,
  input  logic [AddrBits-1:0] b_addr_i,
  output logic [Width-1:0]    b_rdata_o
);
  (* ram_style = "ultra" *) logic [Width-1:0] mem_q [Words];
  logic [Width-1:0] a_rdata_q, b_rdata_q;

  always_ff @(posedge clk_i) begin
    if (a_en_i) begin
      if (a_we_i) mem_q[a_addr_i] <= a_wdata_i;
      else a_rdata_q <= mem_q[a_addr_i];
    end
    if (b_en_i) b_rdata_q <= mem_q[b_addr_i];
  end

  assign a_rdata_o = a_rdata_q;
  assign b_rdata_o = b_rdata_q;
endmodule
