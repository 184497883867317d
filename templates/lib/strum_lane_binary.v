// strumgen Verilog library: binary lane, w = +1 (code 0) or -1 (code 1) (src/format/lowbit.ts).
// No multiplier: a sign select between a and -a. Port contract: strum_lane_full.v.
module strum_lane_binary #(
  parameter A_BITS = 8,
  parameter A_SIGNED = 1,
  parameter C_BITS = 1,
  parameter M_BITS = 1,
  parameter P_BITS = 9
) (
  input  [A_BITS-1:0] a,
  // one sign bit; C_BITS is part of the contract (1 here)
  /* verilator lint_off UNUSEDSIGNAL */
  input  [C_BITS-1:0] code,
  // part of the lane port contract; binary has no metadata
  input  [M_BITS-1:0] meta,
  /* verilator lint_on UNUSEDSIGNAL */
  output [P_BITS-1:0] p
);
  wire [P_BITS-1:0] a_x = {{(P_BITS-A_BITS){A_SIGNED != 0 && a[A_BITS-1]}}, a};
  assign p = code[0] ? -a_x : a_x;
endmodule
