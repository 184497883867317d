// strumgen Verilog library: narrow-integer lane, p = (a * q) << STEP, q a C_BITS-bit two's
// complement code on the high weights' grid (value q * 2^STEP; src/format/int.ts). The
// multiply is C_BITS wide; the shift by the constant STEP is wiring. Port contract:
// strum_lane_full.v.
module strum_lane_int #(
  parameter A_BITS = 8,
  parameter A_SIGNED = 1,
  parameter C_BITS = 4,
  parameter M_BITS = 1,
  parameter P_BITS = 16,
  parameter STEP = 4
) (
  input  [A_BITS-1:0] a,
  input  [C_BITS-1:0] code,
  // part of the lane port contract; the int format has no metadata
  /* verilator lint_off UNUSEDSIGNAL */
  input  [M_BITS-1:0] meta,
  /* verilator lint_on UNUSEDSIGNAL */
  output [P_BITS-1:0] p
);
  // The exact product a * q fits Q_BITS = P_BITS - STEP bits; operands sign-extended to it
  // (an unsigned activation zero-extended).
  localparam Q_BITS = P_BITS - STEP;
  wire signed [Q_BITS-1:0] a_x = {{(Q_BITS-A_BITS){A_SIGNED != 0 && a[A_BITS-1]}}, a};
  wire signed [Q_BITS-1:0] q_x = {{(Q_BITS-C_BITS){code[C_BITS-1]}}, code};
  wire [Q_BITS-1:0] prod = a_x * q_x;
  generate
    if (STEP > 0) begin : g_step
      assign p = {prod, {STEP{1'b0}}};
    end else begin : g_plain
      assign p = prod;
    end
  endgenerate
endmodule
