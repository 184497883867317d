// strumgen Verilog library: the gather (stable compaction) of N items of D bits. Item i is
// selected when sel[i] = POL. Output slot j (0 <= j < K) takes the j-th selected item; when at
// least K items are selected (a router's mask, the SDP top-K) it sits at a position j + d,
// d in 0..N-K. With REST = 1, slots K + r (0 <= r < N-K) take the r-th unselected item
// (positions r..r+K): the stable partition the static StruM router is (high lanes = the
// mask's zeros, POL = 0; low lanes = its ones). A slot with no candidate selected reads 0.
//
// Each slot is a one-hot AND-OR mux over its candidates. The selects compare one prefix count
// cnt[i] (selected items before position i) with the slot number: candidate d of slot j is
// selected iff item j+d is selected and cnt[j+d] == j; candidate d of rest slot r iff item
// r+d is not selected and cnt[r+d] == d (then r unselected items lie before it). The one-hot
// selects are numbered slot by slot: slot j's candidate d at j*(N-K+1) + d, then rest slot
// r's candidate d at K*(N-K+1) + r*(K+1) + d.
//
// MODE 0 (whole): sel, data in; out out (hot is 0).
// MODE 1 (decode): sel in; the one-hot selects out on hot (data unused, out is 0): decoded once
//   and shared by several muxes (pe.routeDecode 'column': one decoder per array column).
// MODE 2 (mux): the one-hot selects in on hot_in (sel unused); out out (hot is 0).
// Ports a MODE does not use: the instance ties the inputs to 0 and leaves the outputs unread.
// POL = 0 (select the zeros) instead of an inverted sel at the instance: hierarchical
// synthesis cannot absorb an inverter at the module boundary.
//
// Coding for simulation speed (docs/PERFORMANCE.md): the prefix count and each slot's OR
// chain are words of net arrays declared outside the generate loops, never wires read across
// generate scopes by hierarchical name (`g[i-1].c`), which make Verilator 5.006 keep every
// candidate term as a variable of its own (the 8x8 strum-mip2q model ran 16% slower).
// `split_var` lets Verilator treat each word as its own signal (otherwise a chain reads the
// array it drives: a combinational loop to Verilator); other tools read it as a comment. Net
// arrays, not slices of one packed vector: Icarus re-evaluates every slice of a vector that
// reads itself (25x slower).
module strum_gather #(
  parameter N = 16,
  parameter K = 8,
  parameter D = 8,
  parameter POL = 1,
  parameter REST = 0,
  parameter MODE = 0
) (
  /* verilator lint_off UNUSEDSIGNAL */
  input  [N-1:0] sel,
  input  [N*D-1:0] data,
  input  [K*(N-K+1) + (REST != 0 ? (N-K)*(K+1) : 0)-1:0] hot_in,
  /* verilator lint_on UNUSEDSIGNAL */
  output [K*(N-K+1) + (REST != 0 ? (N-K)*(K+1) : 0)-1:0] hot,
  output [(REST != 0 ? N : K)*D-1:0] out
);
  // Bits of a prefix count of 0..N-1 (at least 1).
  function integer gather_clog2(input integer f_n);
    integer v;
    begin
      gather_clog2 = 1;
      for (v = 2; v < f_n; v = v * 2) gather_clog2 = gather_clog2 + 1;
    end
  endfunction
  localparam R = N - K;
  localparam CB = gather_clog2(N);
  localparam HK = K * (R + 1);
  localparam HW = HK + (REST != 0 ? R * (K + 1) : 0);

  // cnt[i]: selected items before position i (MODE 0, 1); hs[x]: one-hot select x (MODE 1, 2).
  /* verilator lint_off UNUSEDSIGNAL */
  wire [CB-1:0] cnt [0:N-1] /*verilator split_var*/;
  wire hs [0:HW-1] /*verilator split_var*/;
  /* verilator lint_on UNUSEDSIGNAL */
  // pick[i]: item i is selected (unused in MODE 2).
  /* verilator lint_off UNUSEDSIGNAL */
  wire [N-1:0] pick = POL != 0 ? sel : ~sel;
  /* verilator lint_on UNUSEDSIGNAL */
  genvar i, j, d;
  generate
    for (i = 0; i < N; i = i + 1) begin : g_count
      if (i == 0 || MODE == 2) begin : g_0
        assign cnt[i] = {CB{1'b0}};
      end else if (CB > 1) begin : g_w
        assign cnt[i] = cnt[i-1] + {{(CB-1){1'b0}}, pick[i-1]};
      end else begin : g_1
        assign cnt[i] = cnt[i-1] + pick[i-1];
      end
    end
    // The selects exist as signals only where they cross the port (MODE 1 out, MODE 2 in): in
    // MODE 0 each mux term computes its own (Verilator keeps shared selects as variables: the
    // 8x8 strum-mip2q model ran 12.7% slower with hot driven in MODE 0).
    if (MODE == 1) begin : g_decode
      for (j = 0; j < K; j = j + 1) begin : g_slot
        localparam [CB-1:0] JV = j;
        for (d = 0; d <= R; d = d + 1) begin : g_c
          assign hs[j*(R+1) + d] = pick[j+d] & (cnt[j+d] == JV);
        end
      end
      if (REST != 0) begin : g_rest
        for (j = 0; j < R; j = j + 1) begin : g_slot
          for (d = 0; d <= K; d = d + 1) begin : g_c
            localparam [CB-1:0] DV = d;
            assign hs[HK + j*(K+1) + d] = ~pick[j+d] & (cnt[j+d] == DV);
          end
        end
      end
      for (i = 0; i < HW; i = i + 1) begin : g_hot
        assign hot[i] = hs[i];
      end
    end else begin : g_nodecode
      for (i = 0; i < HW; i = i + 1) begin : g_hot
        assign hs[i] = MODE == 2 ? hot_in[i] : 1'b0;
      end
      assign hot = {HW{1'b0}};
    end
    if (MODE != 1) begin : g_mux
      // Slot j's OR chain: o[d] ORs candidates 0..d; the slot reads the last word.
      for (j = 0; j < K; j = j + 1) begin : g_slot
        localparam [CB-1:0] JV = j;
        wire [D-1:0] o [0:R] /*verilator split_var*/;
        for (d = 0; d <= R; d = d + 1) begin : g_c
          wire [D-1:0] t;
          if (MODE == 0) begin : g_self
            assign t = {D{pick[j+d] & (cnt[j+d] == JV)}} & data[(j+d)*D +: D];
          end else begin : g_given
            assign t = {D{hs[j*(R+1) + d]}} & data[(j+d)*D +: D];
          end
          if (d == 0) begin : g_first
            assign o[0] = t;
          end else begin : g_or
            assign o[d] = o[d-1] | t;
          end
        end
        assign out[j*D +: D] = o[R];
      end
      if (REST != 0) begin : g_rest
        for (j = 0; j < R; j = j + 1) begin : g_slot
          wire [D-1:0] o [0:K] /*verilator split_var*/;
          for (d = 0; d <= K; d = d + 1) begin : g_c
            localparam [CB-1:0] DV = d;
            wire [D-1:0] t;
            if (MODE == 0) begin : g_self
              assign t = {D{~pick[j+d] & (cnt[j+d] == DV)}} & data[(j+d)*D +: D];
            end else begin : g_given
              assign t = {D{hs[HK + j*(K+1) + d]}} & data[(j+d)*D +: D];
            end
            if (d == 0) begin : g_first
              assign o[0] = t;
            end else begin : g_or
              assign o[d] = o[d-1] | t;
            end
          end
          assign out[(K+j)*D +: D] = o[K];
        end
      end
    end else begin : g_nomux
      assign out = {((REST != 0 ? N : K)*D){1'b0}};
    end
  endgenerate
endmodule
