// strumgen Verilog library: the first half of strum_router, for selects decoded once per
// array column (pe.routeDecode 'column'): mask in, one-hot selects out, one per (lane,
// candidate) pair in order: high lane k's candidates d = 0..L (position k + d) at
// k*(L+1) + d, then low lane j's d = 0..H (position j + d) at H*(L+1) + j*(H+1) + d.
// strum_route_mux is the second half. LOW = 0 (sparse): high lanes only. Coded as
// strum_router (split_var net-array chains, no cross-scope references: simulation speed).
module strum_route_decode #(
  parameter B = 16,
  parameter H = 8,
  parameter LOW = 1
) (
  input  [B-1:0] mask,
  output [H*(B-H+1) + (LOW != 0 ? (B-H)*(H+1) : 0)-1:0] sel
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
    for (k = 0; k < H; k = k + 1) begin : g_hi
      localparam [CB-1:0] KV = k;
      for (d = 0; d <= L; d = d + 1) begin : g_c
        assign sel[k*(L+1) + d] = ~mask[k+d] & (zb[k+d] == KV);
      end
    end
    if (LOW != 0) begin : g_low
      for (k = 0; k < L; k = k + 1) begin : g_lo
        for (d = 0; d <= H; d = d + 1) begin : g_c
          localparam [CB-1:0] DV = d;
          assign sel[H*(L+1) + k*(H+1) + d] = mask[k+d] & (zb[k+d] == DV);
        end
      end
    end
  endgenerate
endmodule
