// strumgen Verilog library: the second half of strum_router: the one-hot AND-OR muxes, with
// the selects from strum_route_decode (same order). LOW = 0 (sparse): lo_act is A bits of zeros.
// Coded as strum_router (split_var net-array OR chains, no cross-scope references: simulation speed).
module strum_route_mux #(
  parameter B = 16,
  parameter H = 8,
  parameter A = 8,
  parameter LOW = 1
) (
  input  [H*(B-H+1) + (LOW != 0 ? (B-H)*(H+1) : 0)-1:0] sel,
  input  [B*A-1:0] act,
  output [H*A-1:0] hi_act,
  output [(LOW != 0 ? B - H : 1)*A-1:0] lo_act
);
  localparam L = B - H;
  genvar k, d;
  generate
    // Lane k's OR chain: o[d] ORs candidates 0..d; the lane reads the last word.
    for (k = 0; k < H; k = k + 1) begin : g_hi
      wire [A-1:0] o [0:L] /*verilator split_var*/;
      for (d = 0; d <= L; d = d + 1) begin : g_c
        wire [A-1:0] t = {A{sel[k*(L+1) + d]}} & act[(k+d)*A +: A];
        if (d == 0) begin : g_first
          assign o[0] = t;
        end else begin : g_or
          assign o[d] = o[d-1] | t;
        end
      end
      assign hi_act[k*A +: A] = o[L];
    end
    if (LOW != 0) begin : g_low
      for (k = 0; k < L; k = k + 1) begin : g_lo
        wire [A-1:0] o [0:H] /*verilator split_var*/;
        for (d = 0; d <= H; d = d + 1) begin : g_c
          wire [A-1:0] t = {A{sel[H*(L+1) + k*(H+1) + d]}} & act[(k+d)*A +: A];
          if (d == 0) begin : g_first
            assign o[0] = t;
          end else begin : g_or
            assign o[d] = o[d-1] | t;
          end
        end
        assign lo_act[k*A +: A] = o[H];
      end
    end else begin : g_nolow
      assign lo_act = {A{1'b0}};
    end
  endgenerate
endmodule
