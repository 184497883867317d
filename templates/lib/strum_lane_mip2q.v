// strumgen Verilog library: MIP2Q lane, p = ±(a << e). code = {sign, k}: k = 0 is zero,
// otherwise e = k - 1 (E_BITS bits hold 0..maxExponent; (k - 1) mod 2^E_BITS is exact there).
// Port contract: strum_lane_full.v.
module strum_lane_mip2q #(
  parameter A_BITS = 8,
  parameter A_SIGNED = 1,
  parameter C_BITS = 4,
  parameter M_BITS = 1,
  parameter P_BITS = 15,
  parameter E_BITS = 3
) (
  input  [A_BITS-1:0] a,
  input  [C_BITS-1:0] code,
  // part of the lane port contract; MIP2Q has no metadata
  /* verilator lint_off UNUSEDSIGNAL */
  input  [M_BITS-1:0] meta,
  /* verilator lint_on UNUSEDSIGNAL */
  output [P_BITS-1:0] p
);
  wire [P_BITS-1:0] a_x = {{(P_BITS-A_BITS){A_SIGNED != 0 && a[A_BITS-1]}}, a};
  wire [C_BITS-2:0] k = code[C_BITS-2:0];
  wire neg = code[C_BITS-1];
  wire [P_BITS-1:0] mag;
  generate
    if (E_BITS > 0) begin : g_shift
      // k + all-ones = k - 1 (mod 2^E_BITS)
      wire [E_BITS-1:0] e = k[E_BITS-1:0] + {E_BITS{1'b1}};
      assign mag = (k == {(C_BITS-1){1'b0}}) ? {P_BITS{1'b0}} : (a_x << e);
    end else begin : g_one
      assign mag = (k == {(C_BITS-1){1'b0}}) ? {P_BITS{1'b0}} : a_x;
    end
  endgenerate
  assign p = neg ? -mag : mag;
endmodule
