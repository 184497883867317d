// strumgen Verilog library: logarithmic-posit (LP) lane, p = a * v with v the code's weight on
// the PE's integer grid (src/format/lp.ts lpGridValue is the definition; docs/FORMATS.md).
// code = {s, body}, body = regime run (k), ES exponent bits (e), fraction j (a base-2 log
// fraction, left-aligned to F_MAX bits); |v| = round((MANT[j] << (k*2^ES + e + PMIN_NEG +
// meta)) / 2^R), rounded half up and saturated at 2^(G_BITS-1) - 1 (the grid's largest
// integer); v = s ? -|v| : |v|; body 0 (zero and NaR) is 0. meta is the layer's scale t.
// Port contract: strum_lane_full.v.
module strum_lane_lp #(
  parameter A_BITS = 8,
  parameter A_SIGNED = 1,
  parameter C_BITS = 4,
  parameter M_BITS = 3,
  parameter P_BITS = 16,
  parameter ES = 0,
  parameter RS = 3,
  parameter F_MAX = 1,
  parameter MF = 4,
  parameter PMIN_NEG = 2,
  parameter WIDE_BITS = 16,
  parameter R = 7,
  parameter G_BITS = 8,
  // the mantissa table: entry j (MF+1 bits, round(2^MF * 2^(j/2^F_MAX))) at bits j*(MF+1)
  parameter [(2**F_MAX)*(MF+1)-1:0] MANT = 10'h2f0
) (
  input  [A_BITS-1:0] a,
  input  [C_BITS-1:0] code,
  input  [M_BITS-1:0] meta,
  output [P_BITS-1:0] p
);
  localparam NB = C_BITS - 1;
  localparam CAP = RS < NB ? RS : NB;
  localparam MW = MF + 1;
  // shift amounts are computed modulo 2^SW (every true value is in 0..2^SW-1)
  localparam SW = 8;
  localparam [SW-1:0] PMN = PMIN_NEG;
  localparam VM_BITS = WIDE_BITS + 1 - R;

  wire s = code[C_BITS-1];
  wire [NB-1:0] body = code[NB-1:0];
  wire first = body[NB-1];

  integer i;
  reg run;
  reg [SW-1:0] m;      // regime run length, 1..CAP
  reg [SW-1:0] rb;     // regime bits: the run and its terminator (none when capped)
  reg [NB-1:0] rest;   // the body after the regime, left-aligned
  reg [NB-1:0] fr;     // the fraction, left-aligned
  reg [SW-1:0] e;
  reg [SW-1:0] j;
  reg [SW-1:0] kk;     // k * 2^ES
  reg [SW-1:0] sh;     // k*2^ES + e - pMin + t
  reg [MW-1:0] mant;
  reg [WIDE_BITS-1:0] wide;
  // the R bits below the grid are rounded away
  /* verilator lint_off UNUSEDSIGNAL */
  reg [WIDE_BITS:0] rounded;
  /* verilator lint_on UNUSEDSIGNAL */
  always @* begin
    m = 1;
    run = 1'b1;
    for (i = 1; i < CAP; i = i + 1) begin
      if (run && body[NB-1-i] == first) m = m + 1'b1;
      else run = 1'b0;
    end
    rb = m < CAP ? m + 1'b1 : m;
    rest = body << rb;
    e = {{(SW-NB){1'b0}}, rest >> (NB - ES)};
    fr = rest << ES;
    j = {{(SW-NB){1'b0}}, fr >> (NB - F_MAX)};
    kk = first ? (m - 1'b1) << ES : {SW{1'b0}} - (m << ES);
    sh = kk + e + PMN + {{(SW-M_BITS){1'b0}}, meta};
    mant = MANT[j*MW +: MW];
    wide = {{(WIDE_BITS-MW){1'b0}}, mant} << sh;
    rounded = {1'b0, wide} + ({{WIDE_BITS{1'b0}}, 1'b1} << (R - 1));
  end

  localparam [VM_BITS-1:0] QMAX = {{(VM_BITS-G_BITS+1){1'b0}}, {(G_BITS-1){1'b1}}};
  wire [VM_BITS-1:0] mag_r = rounded[WIDE_BITS:R];
  wire [G_BITS-2:0] mag_s = mag_r > QMAX ? {(G_BITS-1){1'b1}} : mag_r[G_BITS-2:0];
  wire [G_BITS-2:0] mag = body == {NB{1'b0}} ? {(G_BITS-1){1'b0}} : mag_s;
  wire signed [P_BITS-1:0] a_x = {{(P_BITS-A_BITS){A_SIGNED != 0 && a[A_BITS-1]}}, a};
  wire [P_BITS-1:0] mag_x = {{(P_BITS-G_BITS+1){1'b0}}, mag};
  wire signed [P_BITS-1:0] v_x = s ? -mag_x : mag_x;
  assign p = a_x * v_x;
endmodule
