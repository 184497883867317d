// strumgen Verilog library: accumulator and result register. On en:
// acc = wrap((clear ? 0 : acc) + sum) (sum sign-extended, ACC_BITS two's complement), and
// capture copies the new value into the result register at the same edge (a tile's last
// block); otherwise both hold. S_BITS <= ACC_BITS.
module strum_accumulator #(
  parameter S_BITS = 17,
  parameter ACC_BITS = 32
) (
  input  clk,
  input  rst,
  input  en,
  input  clear,
  input  capture,
  input  [S_BITS-1:0] sum,
  output [ACC_BITS-1:0] result
);
  reg [ACC_BITS-1:0] acc;
  reg [ACC_BITS-1:0] res;
  wire [ACC_BITS-1:0] sum_x;
  generate
    if (ACC_BITS > S_BITS) begin : g_ext
      assign sum_x = {{(ACC_BITS-S_BITS){sum[S_BITS-1]}}, sum};
    end else begin : g_same
      assign sum_x = sum;
    end
  endgenerate
  wire [ACC_BITS-1:0] acc_d = (clear ? {ACC_BITS{1'b0}} : acc) + sum_x;
  always @(posedge clk) begin
    if (rst) begin
      acc <= {ACC_BITS{1'b0}};
      res <= {ACC_BITS{1'b0}};
    end else if (en) begin
      acc <= acc_d;
      if (capture) res <= acc_d;
    end
  end
  assign result = res;
endmodule
