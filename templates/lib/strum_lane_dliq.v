// strumgen Verilog library: DLIQ lane, p = a * q, q a C_BITS-bit two's complement code.
// SHIFT = 1: the lane applies the shift itself, p = (a * q) << meta (dynamic lanes);
// SHIFT = 0: p = a * q, and the PE shifts the sum of its low lanes once (every low lane of a
// block shares the shift). Port contract: strum_lane_full.v.
module strum_lane_dliq #(
  parameter A_BITS = 8,
  parameter A_SIGNED = 1,
  parameter C_BITS = 4,
  parameter M_BITS = 1,
  parameter P_BITS = 12,
  parameter SHIFT = 0
) (
  input  [A_BITS-1:0] a,
  input  [C_BITS-1:0] code,
  // the shift t when SHIFT = 1; unused when the PE shifts the sum
  /* verilator lint_off UNUSEDSIGNAL */
  input  [M_BITS-1:0] meta,
  /* verilator lint_on UNUSEDSIGNAL */
  output [P_BITS-1:0] p
);
  wire signed [P_BITS-1:0] a_x = {{(P_BITS-A_BITS){A_SIGNED != 0 && a[A_BITS-1]}}, a};
  wire signed [P_BITS-1:0] q_x = {{(P_BITS-C_BITS){code[C_BITS-1]}}, code};
  wire [P_BITS-1:0] prod = a_x * q_x;
  generate
    if (SHIFT != 0) begin : g_shift
      assign p = prod << meta;
    end else begin : g_plain
      assign p = prod;
    end
  endgenerate
endmodule
