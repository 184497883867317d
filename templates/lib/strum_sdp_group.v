// strumgen Verilog library: one structured-dynamic-precision group of a PE (src/format/sdp.ts).
// G activations and their INT8 weights in; K lane products out. Each activation splits into a
// high part (its top A_BITS - A_BITS/2 bits, two's complement when A_SIGNED) and a low part
// (its low A_BITS/2 bits, unsigned); parts are numbered high parts first (part i = high part
// of activation i, part G + i = its low part) and keyed by the magnitude of their
// contribution (|hi| << A_BITS/2, lo), compared in a narrower code of the same order: a low
// part's key is lo, a high part's 0 when hi = 0, else |hi| + 2^(A_BITS/2) - 1 (every nonzero
// high part outranks every low part, as |hi| << A_BITS/2 > lo does; equal keys stay equal, so
// the tie rule is untouched): KB = 5 bits instead of 8 for 8-bit activations. strum_sdp_topk
// keeps K of the 2G; lane j takes the j-th kept part (strum_gather: positions j..j+2G-K, a
// one-hot AND-OR mux on the prefix count of kept parts) with its activation's weight, and
// strum_lane_part multiplies them, shifting a high part's product by A_BITS/2. Dropped parts cost nothing but their selector logic.
module strum_sdp_group #(
  parameter G = 4,
  parameter K = 4,
  parameter A_BITS = 8,
  parameter A_SIGNED = 1,
  parameter W_BITS = 8,
  parameter P_BITS = 16
) (
  input  [G*A_BITS-1:0] a,
  input  [G*W_BITS-1:0] w,
  output [K*P_BITS-1:0] p
);
  // Bits of a count of 0..f_n-1 (at least 1).
  function integer group_clog2(input integer f_n);
    integer v;
    begin
      group_clog2 = 1;
      for (v = 2; v < f_n; v = v * 2) group_clog2 = group_clog2 + 1;
    end
  endfunction
  localparam N = 2 * G;
  localparam LB = A_BITS / 2;
  localparam HB = A_BITS - LB;
  localparam PB = HB + 1;
  // A part's lane data: {high part?, weight, signed operand}.
  localparam D = 1 + W_BITS + PB;
  // The largest key: the largest |hi| (2^(HB-1) signed, 2^HB - 1 unsigned) + 2^LB - 1.
  localparam MAXK = (1 << LB) - 1 + (A_SIGNED != 0 ? (1 << (HB - 1)) : (1 << HB) - 1);
  // At least HB + 1 bits, so |hi| always zero-extends (the comparators are KB bits wide).
  localparam KB = group_clog2(MAXK + 1) > HB ? group_clog2(MAXK + 1) : HB + 1;
  localparam [KB-1:0] LOWMAX = (1 << LB) - 1;

  wire [N*KB-1:0] key;
  wire [N*D-1:0] data;
  wire [N-1:0] sel;
  genvar i, j;
  generate
    for (i = 0; i < G; i = i + 1) begin : g_split
      wire [HB-1:0] hi = a[i*A_BITS + LB +: HB];
      wire [LB-1:0] lo = a[i*A_BITS +: LB];
      wire neg = A_SIGNED != 0 && hi[HB-1];
      // |hi| fits HB bits unsigned (the most negative high part included).
      wire [HB-1:0] mag = neg ? -hi : hi;
      wire [W_BITS-1:0] wi = w[i*W_BITS +: W_BITS];
      wire [KB-1:0] mag_x = {{(KB-HB){1'b0}}, mag};
      assign key[i*KB +: KB] = mag == {HB{1'b0}} ? {KB{1'b0}} : mag_x + LOWMAX;
      assign key[(G+i)*KB +: KB] = {{(KB-LB){1'b0}}, lo};
      assign data[i*D +: D] = {1'b1, wi, neg, hi};
      assign data[(G+i)*D +: D] = {1'b0, wi, {(PB-LB){1'b0}}, lo};
    end
  endgenerate

  strum_sdp_topk #(.N(N), .K(K), .KEY_BITS(KB)) u_topk (.key(key), .sel(sel));

  // Lane j's data: the j-th kept part (strum_gather, positions j..j+2G-K).
  wire [K*D-1:0] x;
  /* verilator lint_off UNUSEDSIGNAL */
  wire [K*(N-K+1)-1:0] hot;
  /* verilator lint_on UNUSEDSIGNAL */
  strum_gather #(.N(N), .K(K), .D(D), .REST(0), .MODE(0)) u_gather (
    .sel(sel), .data(data), .hot_in({(K*(N-K+1)){1'b0}}), .hot(hot), .out(x)
  );

  generate
    for (j = 0; j < K; j = j + 1) begin : g_lane
      wire [D-1:0] xj = x[j*D +: D];
      strum_lane_part #(
        .A_BITS(PB), .A_SIGNED(1), .C_BITS(W_BITS), .M_BITS(1), .P_BITS(P_BITS), .LOW_BITS(LB)
      ) u_lane (
        .a(xj[PB-1:0]), .code(xj[PB +: W_BITS]), .meta(xj[D-1]), .p(p[j*P_BITS +: P_BITS])
      );
    end
  endgenerate
endmodule
