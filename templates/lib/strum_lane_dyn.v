// strumgen Verilog library: dynamic StruM lane. low = 0: full multiply p = a * w; low = 1:
// the format's low mode, computed by a low lane the PE instantiates beside this module and
// wires to the low-path ports (a_low, c_low in; its product back on p_low). HAS_LOW = 0: the
// format stores no low weights (sparse), a low weight is zero.
// ISOLATE = 1: operand isolation, the path not in use sees constant zeros, so it does not
// toggle; ISOLATE = 0 (bench only): both paths see the operands, a mux picks the product.
module strum_lane_dyn #(
  parameter A_BITS = 8,
  parameter A_SIGNED = 1,
  parameter W_BITS = 8,
  parameter P_BITS = 16,
  parameter HAS_LOW = 1,
  parameter LC_BITS = 4,
  parameter LP_BITS = 15,
  parameter ISOLATE = 1
) (
  input  [A_BITS-1:0] a,
  input  [W_BITS-1:0] w,
  input  low,
  // the low path (unused when HAS_LOW = 0): operands out to the low lane, its product in
  output [A_BITS-1:0] a_low,
  output [LC_BITS-1:0] c_low,
  /* verilator lint_off UNUSEDSIGNAL */
  input  [LP_BITS-1:0] p_low,
  /* verilator lint_on UNUSEDSIGNAL */
  output [P_BITS-1:0] p
);
  wire [A_BITS-1:0] a_full = (ISOLATE != 0 && low) ? {A_BITS{1'b0}} : a;
  wire [W_BITS-1:0] w_full = (ISOLATE != 0 && low) ? {W_BITS{1'b0}} : w;
  wire [P_BITS-1:0] p_full;
  strum_lane_full #(
    .A_BITS(A_BITS),
    .A_SIGNED(A_SIGNED),
    .C_BITS(W_BITS),
    .M_BITS(1),
    .P_BITS(P_BITS)
  ) u_full (
    .a(a_full),
    .code(w_full),
    .meta(1'b0),
    .p(p_full)
  );
  generate
    if (HAS_LOW != 0) begin : g_low
      // The low code sits in the LSBs of the weight slot.
      assign a_low = (ISOLATE != 0 && !low) ? {A_BITS{1'b0}} : a;
      assign c_low = (ISOLATE != 0 && !low) ? {LC_BITS{1'b0}} : w[LC_BITS-1:0];
      wire [P_BITS-1:0] p_low_x = {{(P_BITS-LP_BITS+1){p_low[LP_BITS-1]}}, p_low[LP_BITS-2:0]};
      if (ISOLATE != 0) begin : g_or
        // Exactly one path has non-zero operands, the other's product is 0: OR merges them.
        assign p = p_full | p_low_x;
      end else begin : g_mux
        assign p = low ? p_low_x : p_full;
      end
    end else begin : g_none
      assign a_low = {A_BITS{1'b0}};
      assign c_low = {LC_BITS{1'b0}};
      if (ISOLATE != 0) begin : g_iso
        // A low weight is zero, and the isolated multiplier then gives 0.
        assign p = p_full;
      end else begin : g_mux
        assign p = low ? {P_BITS{1'b0}} : p_full;
      end
    end
  endgenerate
endmodule
