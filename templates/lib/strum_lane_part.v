// strumgen Verilog library: a structured-dynamic-precision part-lane, p = (a * w) << (meta ?
// LOW_BITS : 0). `a` is one kept activation part as a signed operand (a high part
// sign-extended, a low part zero-extended), `code` the INT8 weight of its activation, `meta`
// 1 for a high part (its weight is 2^LOW_BITS). The library's lane port contract
// (strum_lane_full.v): a narrow multiplier and a 0-or-LOW_BITS shift.
module strum_lane_part #(
  parameter A_BITS = 5,
  parameter A_SIGNED = 1,
  parameter C_BITS = 8,
  parameter M_BITS = 1,
  parameter P_BITS = 16,
  parameter LOW_BITS = 4
) (
  input  [A_BITS-1:0] a,
  input  [C_BITS-1:0] code,
  input  [M_BITS-1:0] meta,
  output [P_BITS-1:0] p
);
  wire signed [P_BITS-1:0] a_x = {{(P_BITS-A_BITS){A_SIGNED != 0 && a[A_BITS-1]}}, a};
  wire signed [P_BITS-1:0] w_x = {{(P_BITS-C_BITS){code[C_BITS-1]}}, code};
  wire [P_BITS-1:0] prod = a_x * w_x;
  assign p = meta[0] ? prod << LOW_BITS : prod;
endmodule
