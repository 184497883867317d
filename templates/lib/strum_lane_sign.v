// strumgen Verilog library: sign-select lane of the 1-2-bit formats (src/format/lowbit.ts),
// w = +1 or -1 and, with ZERO = 1, 0. No multiplier: p is a, -a (or 0).
//   ZERO = 0 (binary): a 1-bit code, the sign: 0 = +1, 1 = -1.
//   ZERO = 1 (tern): a 2-bit code, 01 = +1, 11 = -1, 00 = 0 (10 never occurs): add, subtract
//   or skip (the zero select gates the product to 0).
// Port contract: strum_lane_full.v.
module strum_lane_sign #(
  parameter A_BITS = 8,
  parameter A_SIGNED = 1,
  parameter C_BITS = 1,
  parameter M_BITS = 1,
  parameter P_BITS = 9,
  parameter ZERO = 0
) (
  input  [A_BITS-1:0] a,
  // ZERO = 0 reads the sign bit only; C_BITS is part of the contract
  /* verilator lint_off UNUSEDSIGNAL */
  input  [C_BITS-1:0] code,
  // part of the lane port contract; these formats have no metadata
  input  [M_BITS-1:0] meta,
  /* verilator lint_on UNUSEDSIGNAL */
  output [P_BITS-1:0] p
);
  wire [P_BITS-1:0] a_x = {{(P_BITS-A_BITS){A_SIGNED != 0 && a[A_BITS-1]}}, a};
  generate
    if (ZERO != 0) begin : g_zero
      assign p = code[0] ? (code[1] ? -a_x : a_x) : {P_BITS{1'b0}};
    end else begin : g_sign
      assign p = code[0] ? -a_x : a_x;
    end
  endgenerate
endmodule
