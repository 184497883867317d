// strumgen Verilog library: the static StruM router. A block of B activations and its mask
// (bit i = 1: weight i is low) in; the H high lanes' and L = B - H low lanes' activations out.
// High lane k takes the activation at the k-th 0 of the mask (positions k..k+L), low lane j
// the one at the j-th 1 (positions j..j+H). It is its two halves joined: strum_route_decode
// (prefix zero counts -> one-hot selects) and strum_route_mux (one-hot AND-OR muxes); with
// pe.routeDecode 'column' the array instantiates the halves apart (selects decoded once per
// column; docs/ARCHITECTURE.md has the cost).
// LOW = 0 (N:M sparse): no low lanes; lo_act is A bits of zeros. Needs 0 < H < B.
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
  localparam S = H*(B-H+1) + (LOW != 0 ? (B-H)*(H+1) : 0);
  wire [S-1:0] sel;
  strum_route_decode #(.B(B), .H(H), .LOW(LOW)) u_dec (.mask(mask), .sel(sel));
  strum_route_mux #(.B(B), .H(H), .A(A), .LOW(LOW)) u_mux (.sel(sel), .act(act), .hi_act(hi_act), .lo_act(lo_act));
endmodule
