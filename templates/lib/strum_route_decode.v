// strumgen Verilog library: the first half of strum_router, for selects decoded once per
// array column (pe.routeDecode 'column'): mask in, one-hot selects out, one per (lane,
// candidate) pair in order: high lane k's candidates d = 0..L (position k + d) at
// k*(L+1) + d, then low lane j's d = 0..H (position j + d) at H*(L+1) + j*(H+1) + d
// (strum_gather's numbering). strum_route_mux is the second half. LOW = 0 (sparse): high
// lanes only.
module strum_route_decode #(
  parameter B = 16,
  parameter H = 8,
  parameter LOW = 1
) (
  input  [B-1:0] mask,
  output [H*(B-H+1) + (LOW != 0 ? (B-H)*(H+1) : 0)-1:0] sel
);
  localparam REST = LOW != 0 ? 1 : 0;
  localparam HW = H*(B-H+1) + (LOW != 0 ? (B-H)*(H+1) : 0);
  /* verilator lint_off UNUSEDSIGNAL */
  wire [(LOW != 0 ? B : H)-1:0] none;
  /* verilator lint_on UNUSEDSIGNAL */
  strum_gather #(.N(B), .K(H), .D(1), .POL(0), .REST(REST), .MODE(1)) u_gather (
    .sel(mask), .data({B{1'b0}}), .hot_in({HW{1'b0}}), .hot(sel), .out(none)
  );
endmodule
