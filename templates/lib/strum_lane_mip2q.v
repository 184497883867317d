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
  wire [C_BITS-2:0] k = code[C_BITS-2:0];
  wire neg = code[C_BITS-1];
  // The sign is applied to the activation (A_BITS + 1 bits: -(-2^(A-1)) fits) before the
  // shift, in parallel with decoding e, instead of negating the wide shifted product after
  // it: a shorter carry chain on the lane's path into the adder tree.
  wire [A_BITS:0] a_s = {A_SIGNED != 0 && a[A_BITS-1], a};
  wire [A_BITS:0] a_n = (neg ? -a_s : a_s) & {(A_BITS+1){k != {(C_BITS-1){1'b0}}}};
  wire [P_BITS-1:0] a_x;
  generate
    if (P_BITS > A_BITS + 1) begin : g_ext
      assign a_x = {{(P_BITS-A_BITS-1){a_n[A_BITS]}}, a_n};
    end else begin : g_same
      assign a_x = a_n[P_BITS-1:0];
    end
    if (E_BITS > 0) begin : g_shift
      // k + all-ones = k - 1 (mod 2^E_BITS)
      wire [E_BITS-1:0] e = k[E_BITS-1:0] + {E_BITS{1'b1}};
      assign p = a_x << e;
    end else begin : g_one
      assign p = a_x;
    end
  endgenerate
endmodule
