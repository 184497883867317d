// strumgen Verilog library: the static StruM router. A block of B activations and its mask
// (bit i = 1: weight i is low) in; the H high lanes' and L = B - H low lanes' activations out.
// High lane k takes the activation at the k-th 0 of the mask (positions k..k+L), low lane j
// the one at the j-th 1 (positions j..j+H): one-hot AND-OR muxes whose selects compare the
// prefix zero count zb[i] (zeros of the mask before position i) with the lane number.
// LOW = 0 (N:M sparse): no low lanes; lo_act is A bits of zeros. Needs 0 < H < B.
// strum_route_decode + strum_route_mux are the same router split in two (selects decoded once
// per array column); docs/ARCHITECTURE.md has the cost.
//
// Coding for simulation speed (docs/PERFORMANCE.md): the prefix counts and each lane's OR
// chain are words of net arrays declared outside the generate loops, never wires read across
// generate scopes by hierarchical name (`g_count[i-1].zb`): with such references Verilator
// 5.006 keeps every candidate term and the lanes' activations as variables of their own (the
// model ran 16% slower). The `split_var` metacomments let Verilator treat each word as its own
// signal (otherwise a chain reads the array it drives: a combinational loop to Verilator);
// other tools read them as comments. Net arrays, not slices of one packed vector: Icarus
// re-evaluates every slice of a vector that reads itself (25x slower).
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

  // zb[i]: the prefix zero count of position i.
  wire [CB-1:0] zb [0:B-1] /*verilator split_var*/;
  genvar i, k, d;
  generate
    for (i = 0; i < B; i = i + 1) begin : g_count
      if (i == 0) begin : g_0
        assign zb[0] = {CB{1'b0}};
      end else if (CB > 1) begin : g_w
        assign zb[i] = zb[i-1] + {{(CB-1){1'b0}}, ~mask[i-1]};
      end else begin : g_1
        assign zb[i] = zb[i-1] + ~mask[i-1];
      end
    end
    // Lane k's OR chain: o[d] ORs candidates 0..d; the lane reads the last word.
    for (k = 0; k < H; k = k + 1) begin : g_hi
      localparam [CB-1:0] KV = k;
      wire [A-1:0] o [0:L] /*verilator split_var*/;
      for (d = 0; d <= L; d = d + 1) begin : g_c
        wire [A-1:0] t = {A{~mask[k+d] & (zb[k+d] == KV)}} & act[(k+d)*A +: A];
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
          localparam [CB-1:0] DV = d;
          wire [A-1:0] t = {A{mask[k+d] & (zb[k+d] == DV)}} & act[(k+d)*A +: A];
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
