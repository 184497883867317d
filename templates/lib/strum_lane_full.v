// strumgen Verilog library: full-precision lane, p = a * w (signed weight; activation
// signed or unsigned). Every lane module of the library has this port contract:
//   a    [A_BITS-1:0]  activation (two's complement when A_SIGNED, else unsigned)
//   code [C_BITS-1:0]  the weight's code (here the two's complement weight itself)
//   meta [M_BITS-1:0]  the format's metadata for the lane (unused here; tie to 0)
//   p    [P_BITS-1:0]  the exact product, two's complement (P_BITS > A_BITS, P_BITS > C_BITS)
module strum_lane_full #(
  parameter A_BITS = 8,
  parameter A_SIGNED = 1,
  parameter C_BITS = 8,
  parameter M_BITS = 1,
  parameter P_BITS = 16
) (
  input  [A_BITS-1:0] a,
  input  [C_BITS-1:0] code,
  // part of the lane port contract; a full lane applies no metadata
  /* verilator lint_off UNUSEDSIGNAL */
  input  [M_BITS-1:0] meta,
  /* verilator lint_on UNUSEDSIGNAL */
  output [P_BITS-1:0] p
);
  // Operands sign-extended (an unsigned activation zero-extended) to the product width: the
  // product is exact in P_BITS and synthesis sees a signed C_BITS-bit multiplier.
  wire signed [P_BITS-1:0] a_x = {{(P_BITS-A_BITS){A_SIGNED != 0 && a[A_BITS-1]}}, a};
  wire signed [P_BITS-1:0] w_x = {{(P_BITS-C_BITS){code[C_BITS-1]}}, code};
  assign p = a_x * w_x;
endmodule
