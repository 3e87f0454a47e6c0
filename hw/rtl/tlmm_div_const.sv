// floor(x / d) for a constant d by one multiplication and a shift: floor(x * Mul / 2^Shift). Mul and
// Shift come from the generated package (host/src/hwgen/params.ts), which proves them exact for
// every x up to the maximum the caller can present; a power-of-two d is Mul = 1 (a plain shift).
module tlmm_div_const #(
  parameter int unsigned InBits = 14,
  parameter int unsigned OutBits = 8,
  parameter int unsigned Mul = 1,
  parameter int unsigned Shift = 0,
  localparam int unsigned MulBits = (Mul > 1) ? $clog2(Mul + 1) : 1
) (
  input  logic [InBits-1:0]  x_i,
  output logic [OutBits-1:0] q_o
);
  if (Mul < 1) begin : g_check_mul
    $error("tlmm_div_const: Mul must be at least 1");
  end

  logic [InBits+MulBits-1:0] product;
  assign product = (InBits + MulBits)'(x_i) * (InBits + MulBits)'(Mul);
  assign q_o = OutBits'(product >> Shift);
endmodule
