// strumgen Verilog library: the static StruM router. A block of B activations and its mask
// (bit i = 1: weight i is low) in; the H high lanes' and L = B - H low lanes' activations out.
// High lane k takes the activation at the k-th 0 of the mask (positions k..k+L), low lane j
// the one at the j-th 1 (positions j..j+H): strum_gather's stable partition with the mask's
// zeros selected (one prefix count of zeros for both kinds of lane; docs/ARCHITECTURE.md has
// the cost). LOW = 0 (N:M sparse): no low lanes; lo_act is A bits of zeros. Needs 0 < H < B.
// strum_route_decode + strum_route_mux are the same router split in two (selects decoded once
// per array column).
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
  localparam REST = LOW != 0 ? 1 : 0;
  localparam HW = H*(B-H+1) + (LOW != 0 ? (B-H)*(H+1) : 0);
  wire [(LOW != 0 ? B : H)*A-1:0] routed;
  /* verilator lint_off UNUSEDSIGNAL */
  wire [HW-1:0] hot;
  /* verilator lint_on UNUSEDSIGNAL */
  strum_gather #(.N(B), .K(H), .D(A), .POL(0), .REST(REST), .MODE(0)) u_gather (
    .sel(mask), .data(act), .hot_in({HW{1'b0}}), .hot(hot), .out(routed)
  );
  assign hi_act = routed[H*A-1:0];
  generate
    if (LOW != 0) begin : g_low
      assign lo_act = routed[(LOW != 0 ? B : H)*A-1:H*A];
    end else begin : g_nolow
      assign lo_act = {A{1'b0}};
    end
  endgenerate
endmodule
