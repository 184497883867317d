// strumgen Verilog library: one static structured-dynamic-precision group of a PE
// (pe.sdp.operand 'weights'; src/format/sdp.ts). G full activations and the group's K stored
// part entries in; K lane products out. The quantizer chose the kept weight parts offline, so
// there is no selector: entry j = {index (I_BITS), low (1), code (HB)}, LSB first, and part-lane
// j multiplies activation `index` (a G:1 mux) by the part (a high part's code sign-extended, a
// low part's zero-extended), shifting a high part's product by W_BITS/2. An unused entry is all
// zero (a high part 0 of value 0): its product is 0.
module strum_sdp_static_group #(
  parameter G = 4,
  parameter K = 4,
  parameter A_BITS = 8,
  parameter A_SIGNED = 1,
  parameter W_BITS = 8,
  // Bits of a value index: ceil(log2 G), 0 when G = 1.
  parameter I_BITS = 2,
  parameter P_BITS = 16
) (
  input  [G*A_BITS-1:0] a,
  input  [K*(W_BITS - W_BITS/2 + 1 + I_BITS)-1:0] parts,
  output [K*P_BITS-1:0] p
);
  localparam LB = W_BITS / 2;
  localparam HB = W_BITS - LB;
  localparam E = HB + 1 + I_BITS;
  genvar j;
  generate
    for (j = 0; j < K; j = j + 1) begin : g_lane
      wire [E-1:0] e = parts[j*E +: E];
      wire low = e[HB];
      wire [A_BITS-1:0] act;
      if (G > 1) begin : g_mux
        wire [I_BITS-1:0] index = e[E-1:HB+1];
        assign act = a[index*A_BITS +: A_BITS];
      end else begin : g_one
        assign act = a;
      end
      // The part as an (HB+1)-bit signed operand.
      wire [HB:0] part = {~low & e[HB-1], e[HB-1:0]};
      strum_lane_part #(
        .A_BITS(A_BITS), .A_SIGNED(A_SIGNED), .C_BITS(HB + 1), .M_BITS(1), .P_BITS(P_BITS), .LOW_BITS(LB)
      ) u_lane (
        .a(act), .code(part), .meta(~low), .p(p[j*P_BITS +: P_BITS])
      );
    end
  endgenerate
endmodule
