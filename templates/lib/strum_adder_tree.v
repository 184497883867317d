// strumgen Verilog library: balanced adder tree for any number of leaves of mixed widths.
// Leaf i is LEAF_BITS[8i +: 8] bits wide (two's complement) and sits in `in` after the leaves
// before it (leaf 0 in the LSBs; IN_BITS = the sum of the widths). Each level adds neighbours
// pairwise and passes an odd one up (node i of level l sums leaves i*2^l .. (i+1)*2^l - 1); a
// node is one bit wider than its wider child, capped at CAP: a sub-sum never needs more bits
// than the whole exact sum, and bits above the accumulator wrap away. OUT_BITS must be the
// root's width (src/rtl/tree.ts computes the same plan; a mismatch fails elaboration).
module strum_adder_tree #(
  parameter N = 2,
  parameter [8*N-1:0] LEAF_BITS = {N{8'd8}},
  parameter CAP = 32,
  parameter IN_BITS = 16,
  parameter OUT_BITS = 9
) (
  input  [IN_BITS-1:0] in,
  output [OUT_BITS-1:0] sum
);
  // Levels above the leaves: ceil(log2 N).
  function integer levels(input integer f_n);
    integer v;
    begin
      levels = 0;
      for (v = 1; v < f_n; v = v * 2) levels = levels + 1;
    end
  endfunction
  // Nodes at level l (leaves are level 0).
  function integer count(input integer f_l);
    count = (N + (1 << f_l) - 1) >> f_l;
  endfunction
  // Index of the first node of level l in the node array (levels stored one after another).
  function integer base(input integer f_l);
    integer m;
    begin
      base = 0;
      for (m = 0; m < f_l; m = m + 1) base = base + count(m);
    end
  endfunction

  localparam TOP = levels(N);
  localparam NODES = base(TOP) + 1;

  // Every node's width, 8 bits each, computed once: a leaf's from LEAF_BITS; an adder one bit
  // wider than its wider child, capped at CAP; a node passed up keeps its child's.
  function [8*NODES-1:0] widths(input integer f_unused);
    integer l, j, n, b, pb, wa, wb, w;
    begin
      widths = {(8*NODES){1'b0}};
      widths[8*N-1:0] = LEAF_BITS;
      pb = 0;
      b = N;
      n = N;
      for (l = 1; l <= TOP; l = l + 1) begin
        for (j = 0; 2 * j < n; j = j + 1) begin
          wa = {24'd0, widths[8*(pb+2*j) +: 8]};
          w = wa;
          if (2 * j + 1 < n) begin
            wb = {24'd0, widths[8*(pb+2*j+1) +: 8]};
            w = (wa > wb ? wa : wb) + 1;
            if (w > CAP) w = CAP;
          end
          widths[8*(b+j) +: 8] = w[7:0];
        end
        pb = b;
        b = b + (n + 1) / 2;
        n = (n + 1) / 2;
      end
    end
  endfunction
  // Every leaf's offset in `in`, 32 bits each (entry N: the total).
  function [32*(N+1)-1:0] offsets(input integer f_unused);
    integer m, o;
    begin
      offsets = {(32*(N+1)){1'b0}};
      o = 0;
      for (m = 0; m <= N; m = m + 1) begin
        offsets[32*m +: 32] = o;
        if (m < N) o = o + {24'd0, LEAF_BITS[8*m +: 8]};
      end
    end
  endfunction
  localparam [8*NODES-1:0] WIDTH = widths(0);
  localparam [32*(N+1)-1:0] OFFSET = offsets(0);

  // Every node sign-extended to CAP bits (a parent reads the low bits it needs), one wire per
  // generate scope (no net array: simulators then track each node on its own).
  genvar lv, n;
  generate
    if (OFFSET[32*N +: 32] != IN_BITS || WIDTH[8*(NODES-1) +: 8] != OUT_BITS) begin : g_bad_widths
      // IN_BITS or OUT_BITS do not match LEAF_BITS and CAP: refuse to elaborate.
      strum_adder_tree_width_mismatch u_error ();
    end
    for (lv = 0; lv <= TOP; lv = lv + 1) begin : g_level
      for (n = 0; n < count(lv); n = n + 1) begin : g_node
        // Bits above the node's own width are sign copies that only some readers take.
        /* verilator lint_off UNUSEDSIGNAL */
        wire [CAP-1:0] v;
        /* verilator lint_on UNUSEDSIGNAL */
        if (lv == 0) begin : g_leaf
          localparam integer LB = {24'd0, LEAF_BITS[8*n +: 8]};
          localparam integer AT = OFFSET[32*n +: 32];
          if (CAP > LB) begin : g_ext
            assign v = {{(CAP-LB){in[AT+LB-1]}}, in[AT +: LB]};
          end else begin : g_same
            assign v = in[AT +: LB];
          end
        end else if (2 * n + 1 < count(lv - 1)) begin : g_add
          localparam integer WN = {24'd0, WIDTH[8*(base(lv)+n) +: 8]};
          wire [WN-1:0] s = g_level[lv-1].g_node[2*n].v[WN-1:0] + g_level[lv-1].g_node[2*n+1].v[WN-1:0];
          if (CAP > WN) begin : g_ext
            assign v = {{(CAP-WN){s[WN-1]}}, s};
          end else begin : g_same
            assign v = s;
          end
        end else begin : g_pass
          assign v = g_level[lv-1].g_node[2*n].v;
        end
      end
    end
  endgenerate
  assign sum = g_level[TOP].g_node[0].v[OUT_BITS-1:0];
endmodule
