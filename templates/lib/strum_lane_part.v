// strumgen Verilog library: a structured-dynamic-precision part-lane, p = (a * code) <<
// (meta ? LOW_BITS : 0). One operand is a kept part, the other the full value it multiplies:
// dynamic SDP (strum_sdp_group) puts the activation part on `a` (a high part sign-extended, a
// low part zero-extended) and the INT8 weight on `code`; static SDP (strum_sdp_static_group)
// the activation on `a` and the weight part on `code`. `meta` is 1 for a high part (its weight
// is 2^LOW_BITS). The library's lane port contract (strum_lane_full.v).
//
// Area and speed (docs/FORMATS.md, "SDP"; docs/PERFORMANCE.md): the multiply and the shift are
// in this one module, so synthesis optimises them together (an instance of strum_lane_full with
// the shift after it was 7% larger: hierarchical synthesis keeps the boundary); the narrower
// operand is the multiply's first (Yosys's Booth multiplier of a 5-bit by an 8-bit operand is
// 13% larger the other way round); the shift is a mux of two constant shifts, not a shift by a
// variable amount (Verilator's model then runs 4% more instructions).
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
  // Operands sign-extended (an unsigned activation zero-extended) to the product width: the
  // product is exact in P_BITS.
  wire signed [P_BITS-1:0] a_x = {{(P_BITS-A_BITS){A_SIGNED != 0 && a[A_BITS-1]}}, a};
  wire signed [P_BITS-1:0] w_x = {{(P_BITS-C_BITS){code[C_BITS-1]}}, code};
  wire signed [P_BITS-1:0] narrow = A_BITS <= C_BITS ? a_x : w_x;
  wire signed [P_BITS-1:0] wide = A_BITS <= C_BITS ? w_x : a_x;
  wire [P_BITS-1:0] prod = narrow * wide;
  assign p = ~meta[0] ? prod : prod << LOW_BITS;
endmodule
