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
  // Index of the first node of level l in the node array.
  function integer base(input integer f_l);
    integer m;
    begin
      base = 0;
      for (m = 0; m < f_l; m = m + 1) base = base + count(m);
    end
  endfunction
  // Offset of leaf i in `in`.
  function integer leaf_offset(input integer f_i);
    integer m;
    begin
      leaf_offset = 0;
      for (m = 0; m < f_i; m = m + 1) leaf_offset = leaf_offset + {24'd0, LEAF_BITS[8*m +: 8]};
    end
  endfunction
  // Width of node i at level l: the widest leaf under it plus the adders on its way up (a
  // node at level k - 1 is added, not passed up, when its neighbour exists), capped at CAP.
  function integer node_bits(input integer f_l, input integer f_i);
    integer m, k, wm, best;
    begin
      best = 0;
      for (m = f_i << f_l; m < ((f_i + 1) << f_l) && m < N; m = m + 1) begin
        wm = {24'd0, LEAF_BITS[8*m +: 8]};
        for (k = 1; k <= f_l; k = k + 1)
          if (((m >> (k - 1)) ^ 1) < count(k - 1)) wm = wm + 1;
        if (wm > best) best = wm;
      end
      node_bits = best > CAP ? CAP : best;
    end
  endfunction

  localparam TOP = levels(N);
  localparam NODES = base(TOP) + 1;
  // Every node sign-extended to CAP bits (a parent reads the low bits it needs).
  // Bits above a node's own width are sign copies that only some readers take.
  /* verilator lint_off UNUSEDSIGNAL */
  wire [CAP-1:0] v [0:NODES-1] /* verilator split_var */;
  /* verilator lint_on UNUSEDSIGNAL */

  genvar lv, n;
  generate
    if (leaf_offset(N) != IN_BITS || node_bits(TOP, 0) != OUT_BITS) begin : g_bad_widths
      // IN_BITS or OUT_BITS do not match LEAF_BITS and CAP: refuse to elaborate.
      strum_adder_tree_width_mismatch u_error ();
    end
    for (n = 0; n < N; n = n + 1) begin : g_leaf
      localparam LB = LEAF_BITS[8*n +: 8];
      wire [LB-1:0] x = in[leaf_offset(n) +: LB];
      if (CAP > LB) begin : g_ext
        assign v[n] = {{(CAP-LB){x[LB-1]}}, x};
      end else begin : g_same
        assign v[n] = x;
      end
    end
    for (lv = 1; lv <= TOP; lv = lv + 1) begin : g_level
      for (n = 0; n < count(lv); n = n + 1) begin : g_node
        localparam WN = node_bits(lv, n);
        localparam CA = base(lv - 1) + 2 * n;
        localparam AT = base(lv) + n;
        if (2 * n + 1 < count(lv - 1)) begin : g_add
          wire [WN-1:0] s = v[CA][WN-1:0] + v[CA+1][WN-1:0];
          if (CAP > WN) begin : g_ext
            assign v[AT] = {{(CAP-WN){s[WN-1]}}, s};
          end else begin : g_same
            assign v[AT] = s;
          end
        end else begin : g_pass
          assign v[AT] = v[CA];
        end
      end
    end
  endgenerate
  assign sum = v[NODES-1][OUT_BITS-1:0];
endmodule
