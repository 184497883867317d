// strumgen Verilog library: ternary lane, w = +1 (code 01), -1 (code 11) or 0 (code 00; 10
// never occurs) (src/format/lowbit.ts). No multiplier: add, subtract or skip (the zero
// select gates the product to 0). Port contract: strum_lane_full.v.
module strum_lane_tern #(
  parameter A_BITS = 8,
  parameter A_SIGNED = 1,
  parameter C_BITS = 2,
  parameter M_BITS = 1,
  parameter P_BITS = 9
) (
  input  [A_BITS-1:0] a,
  input  [C_BITS-1:0] code,
  // part of the lane port contract; ternary has no metadata
  /* verilator lint_off UNUSEDSIGNAL */
  input  [M_BITS-1:0] meta,
  /* verilator lint_on UNUSEDSIGNAL */
  output [P_BITS-1:0] p
);
  wire [P_BITS-1:0] a_x = {{(P_BITS-A_BITS){A_SIGNED != 0 && a[A_BITS-1]}}, a};
  assign p = code[0] ? (code[1] ? -a_x : a_x) : {P_BITS{1'b0}};
endmodule
