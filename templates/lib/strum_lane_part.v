// strumgen Verilog library: a structured-dynamic-precision part-lane, p = (a * code) <<
// (meta ? LOW_BITS : 0). One operand is a kept part, the other the full value it multiplies:
// dynamic SDP (strum_sdp_group) puts the activation part on `a` (a high part sign-extended, a
// low part zero-extended) and the INT8 weight on `code`; static SDP (strum_sdp_static_group)
// the activation on `a` and the weight part on `code`. `meta` is 1 for a high part (its weight
// is 2^LOW_BITS). The library's lane port contract (strum_lane_full.v), whose multiply this
// lane reuses, with a 0-or-LOW_BITS shift after it.
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
  wire [P_BITS-1:0] prod;
  strum_lane_full #(
    .A_BITS(A_BITS), .A_SIGNED(A_SIGNED), .C_BITS(C_BITS), .M_BITS(1), .P_BITS(P_BITS)
  ) u_mul (
    .a(a), .code(code), .meta(1'b0), .p(prod)
  );
  assign p = meta[0] ? prod << LOW_BITS : prod;
endmodule
