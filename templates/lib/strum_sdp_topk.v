// strumgen Verilog library: the structured-dynamic-precision top-K part selector
// (src/format/sdp.ts is the rule). N part keys (importances) in, the kept mask out: part p is
// kept (sel[p] = 1) iff fewer than K parts beat it, where part q beats p when key[q] > key[p],
// or key[q] == key[p] and q < p (ties go to the lower part number). One comparator per pair
// of parts and a count per part: exactly K bits of sel are 1, whatever the keys (0 < K < N).
module strum_sdp_topk #(
  parameter N = 8,
  parameter K = 4,
  parameter KEY_BITS = 8
) (
  input  [N*KEY_BITS-1:0] key,
  output [N-1:0] sel
);
  // Bits of a count of 0..N-1 (at least 1).
  function integer topk_clog2(input integer f_n);
    integer v;
    begin
      topk_clog2 = 1;
      for (v = 2; v < f_n; v = v * 2) topk_clog2 = topk_clog2 + 1;
    end
  endfunction
  localparam CB = topk_clog2(N);
  localparam [CB-1:0] KV = K[CB-1:0];

  // One wire per generate scope (no net arrays): parts beating p before q is g_p[p].g_q[q].c.
  genvar p, q;
  generate
    for (p = 0; p < N; p = p + 1) begin : g_p
      wire [KEY_BITS-1:0] kp = key[p*KEY_BITS +: KEY_BITS];
      for (q = 0; q < N; q = q + 1) begin : g_q
        // q beats p: a larger key, or an equal key at a lower part number.
        wire beat;
        if (q < p) begin : g_lower
          assign beat = key[q*KEY_BITS +: KEY_BITS] >= kp;
        end else if (q > p) begin : g_higher
          assign beat = key[q*KEY_BITS +: KEY_BITS] > kp;
        end else begin : g_self
          assign beat = 1'b0;
        end
        wire [CB-1:0] c;
        if (q == 0) begin : g_0
          assign c = {{(CB-1){1'b0}}, beat};
        end else begin : g_sum
          assign c = g_q[q-1].c + {{(CB-1){1'b0}}, beat};
        end
      end
      assign sel[p] = g_q[N-1].c < KV;
    end
  endgenerate
endmodule
