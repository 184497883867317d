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
// Coding for simulation speed and build time (docs/PERFORMANCE.md): the prefix count and each
// slot's OR chain are words of net arrays declared outside the generate loops, never wires read
// across generate scopes by hierarchical name (`g[i-1].c`), which make Verilator 5.006 keep
// every candidate term as a variable of its own (the 8x8 strum-mip2q model ran 16% slower).
// One generate scope per candidate and no MODE branch inside it: every scope and every
// variable of the PE is copied once per PE instance before Verilator optimises, so its
// elaboration time grows with them (the nested coding cost 17% more Verilator work on the 8x8
// model). `split_var` lets Verilator treat each word as its own signal (otherwise a chain
// reads the array it drives: a combinational loop to Verilator); other tools read it as a
// comment. Net arrays, not slices of one packed vector: Icarus re-evaluates every slice of a
// vector that reads itself (25x slower). No functions with loops (Verilator unrolls them per
// call: 2x the elaboration work).
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

  localparam S = REST != 0 ? N : K;
  localparam [CB-1:0] ONE = 1;

  // cnt[i]: selected items before position i (MODE 0, 1).
  /* verilator lint_off UNUSEDSIGNAL */
  wire [CB-1:0] cnt [0:N] /*verilator split_var*/;
  // pick[i]: item i is selected (unused in MODE 2).
  wire [N-1:0] pick = POL != 0 ? sel : ~sel;
  /* verilator lint_on UNUSEDSIGNAL */
  assign cnt[0] = {CB{1'b0}};
  genvar i, j, d;
  generate
    for (i = 0; i < N; i = i + 1) begin : g_count
      assign cnt[i+1] = cnt[i] + ({CB{pick[i]}} & ONE);
    end
    // Slot j < K: candidate d (0..R) is item j+d, selected, with cnt == j; rest slot r = j-K:
    // candidate d (0..K) is item r+d, unselected, with cnt == d. Its one-hot select is number
    // X. The slot ORs its candidates' terms in a chain: o[d+1] = o[d] | term d.
    for (j = 0; j < S; j = j + 1) begin : g_slot
      localparam NC = j < K ? R + 1 : K + 1;
      localparam P0 = j < K ? j : j - K;
      localparam X0 = j < K ? j * (R + 1) : HK + (j - K) * (K + 1);
      /* verilator lint_off UNUSEDSIGNAL */
      wire [D-1:0] o [0:NC] /*verilator split_var*/;
      /* verilator lint_on UNUSEDSIGNAL */
      assign o[0] = {D{1'b0}};
      for (d = 0; d < NC; d = d + 1) begin : g_c
        localparam [CB-1:0] V = j < K ? j : d;
        // The select computed here (MODE 0, 1) or given (MODE 2): in MODE 0 it is no signal
        // of its own (a shared select is a variable to Verilator: the model ran 12.7% slower).
        assign o[d+1] = o[d] | ({D{MODE == 2 ? hot_in[X0+d] :
          (j < K ? pick[P0+d] : ~pick[P0+d]) & (cnt[P0+d] == V)}} & data[(P0+d)*D +: D]);
        if (MODE == 1) begin : g_hot
          assign hot[X0+d] = (j < K ? pick[P0+d] : ~pick[P0+d]) & (cnt[P0+d] == V);
        end
      end
      assign out[j*D +: D] = MODE == 1 ? {D{1'b0}} : o[NC];
    end
    if (MODE != 1) begin : g_nohot
      assign hot = {HW{1'b0}};
    end
  endgenerate
endmodule
