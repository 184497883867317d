// strumgen Verilog library: the static StruM router. A block of B activations and its mask
// (bit i = 1: weight i is low) in; the H high lanes' and L = B - H low lanes' activations out.
// High lane k takes the activation at the k-th 0 of the mask (positions k..k+L), low lane j
// the one at the j-th 1 (positions j..j+H): one-hot AND-OR muxes whose selects compare the
// prefix zero count zb[i] (zeros of the mask before position i) with the lane number.
// LOW = 0 (N:M sparse): no low lanes; lo_act is A bits of zeros. Needs 0 < H < B.
// strum_route_decode + strum_route_mux are the same router split in two (selects decoded once
// per array column); docs/ARCHITECTURE.md has the cost.
module strum_router #(
  parameter B = 16,
  parameter H = 8,
  parameter A = 8,
  parameter LOW = 1
) (
  input  [B-1:0] mask,
  input  [B*A-1:0] act,
  output [H*A-1:0] hi_act,
  output [(LOW != 0 ? B - H : 1)*A-1:0] lo_act
);
  // Bits of a prefix count of 0..B-1 (at least 1).
  function integer clog2(input integer f_n);
    integer v;
    begin
      clog2 = 1;
      for (v = 2; v < f_n; v = v * 2) clog2 = clog2 + 1;
    end
  endfunction
  localparam L = B - H;
  localparam CB = clog2(B);

  // One wire per generate scope (no net arrays): zb of position i is g_count[i].zb.
  genvar i, k, d;
  generate
    for (i = 0; i < B; i = i + 1) begin : g_count
      wire [CB-1:0] zb;
      if (i == 0) begin : g_0
        assign zb = {CB{1'b0}};
      end else if (CB > 1) begin : g_w
        assign zb = g_count[i-1].zb + {{(CB-1){1'b0}}, ~mask[i-1]};
      end else begin : g_1
        assign zb = g_count[i-1].zb + ~mask[i-1];
      end
    end
    for (k = 0; k < H; k = k + 1) begin : g_hi
      localparam [CB-1:0] KV = k;
      for (d = 0; d <= L; d = d + 1) begin : g_c
        wire [A-1:0] t = {A{~mask[k+d] & (g_count[k+d].zb == KV)}} & act[(k+d)*A +: A];
        wire [A-1:0] o;
        if (d == 0) begin : g_first
          assign o = t;
        end else begin : g_or
          assign o = g_c[d-1].o | t;
        end
      end
      assign hi_act[k*A +: A] = g_c[L].o;
    end
    if (LOW != 0) begin : g_low
      for (k = 0; k < L; k = k + 1) begin : g_lo
        for (d = 0; d <= H; d = d + 1) begin : g_c
          localparam [CB-1:0] DV = d;
          wire [A-1:0] t = {A{mask[k+d] & (g_count[k+d].zb == DV)}} & act[(k+d)*A +: A];
          wire [A-1:0] o;
          if (d == 0) begin : g_first
            assign o = t;
          end else begin : g_or
            assign o = g_c[d-1].o | t;
          end
        end
        assign lo_act[k*A +: A] = g_c[H].o;
      end
    end else begin : g_nolow
      assign lo_act = {A{1'b0}};
    end
  endgenerate
endmodule
