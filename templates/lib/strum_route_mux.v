// strumgen Verilog library: the second half of strum_router: the one-hot AND-OR muxes, with
// the selects from strum_route_decode (same order). LOW = 0 (sparse): lo_act is A bits of zeros.
module strum_route_mux #(
  parameter B = 16,
  parameter H = 8,
  parameter A = 8,
  parameter LOW = 1
) (
  input  [H*(B-H+1) + (LOW != 0 ? (B-H)*(H+1) : 0)-1:0] sel,
  input  [B*A-1:0] act,
  output [H*A-1:0] hi_act,
  output [(LOW != 0 ? B - H : 1)*A-1:0] lo_act
);
  localparam REST = LOW != 0 ? 1 : 0;
  localparam HW = H*(B-H+1) + (LOW != 0 ? (B-H)*(H+1) : 0);
  wire [(LOW != 0 ? B : H)*A-1:0] routed;
  /* verilator lint_off UNUSEDSIGNAL */
  wire [HW-1:0] echo;
  /* verilator lint_on UNUSEDSIGNAL */
  strum_gather #(.N(B), .K(H), .D(A), .POL(0), .REST(REST), .MODE(2)) u_gather (
    .sel({B{1'b0}}), .data(act), .hot_in(sel), .hot(echo), .out(routed)
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
