// strumgen Verilog library: the structured-dynamic-precision top-K part selector
// (src/format/sdp.ts is the rule). N part keys (importances) in, the kept mask out: part p is
// kept (sel[p] = 1) iff fewer than K parts beat it, where part q beats p when key[q] > key[p],
// or key[q] == key[p] and q < p (ties go to the lower part number). One comparator per pair
// of parts and a count per part: exactly K bits of sel are 1, whatever the keys (0 < K < N).
//
// Coding for simulation speed (strum_gather.v, docs/PERFORMANCE.md): the counts are words of
// a net array declared outside the generate loops (`split_var`, so Verilator sees each word as
// its own signal and a count chain is no loop), never wires read across generate scopes by
// hierarchical name; and one flat loop over the N*N pairs with the pair's case as constant
// conditions, not nested loops with a generate `if` per case (Verilator's elaboration work
// grows with the generate scopes: N + N*N here, N + 3*N*N before).
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
  localparam [CB-1:0] ONE = 1;

  // c[p*(N+1) + q]: the parts among 0..q-1 that beat p; p's count is c[p*(N+1) + N].
  wire [CB-1:0] c [0:N*(N+1)-1] /*verilator split_var*/;
  genvar p, x;
  generate
    for (p = 0; p < N; p = p + 1) begin : g_part
      assign c[p*(N+1)] = {CB{1'b0}};
      assign sel[p] = c[p*(N+1) + N] < KV;
    end
    for (x = 0; x < N*N; x = x + 1) begin : g_pair
      localparam P = x / N;
      localparam Q = x % N;
      wire [KEY_BITS-1:0] kp = key[P*KEY_BITS +: KEY_BITS];
      wire [KEY_BITS-1:0] kq = key[Q*KEY_BITS +: KEY_BITS];
      // q beats p: a larger key, or an equal key at a lower part number.
      wire beat = Q < P ? kq >= kp : Q > P ? kq > kp : 1'b0;
      assign c[P*(N+1) + Q + 1] = c[P*(N+1) + Q] + (beat ? ONE : {CB{1'b0}});
    end
  endgenerate
endmodule
