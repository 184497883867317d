// Bulk block dot products for the checker: for every cycle, every PE's Σ a[i] * w[i]
// (golden.ts `blockDot`), computed for whole stimulus chunks at once. This is the
// checker's hot loop (rows x cols x B MACs per cycle), so when every value fits in 16
// bits and the config's block sum fits in 32 bits it runs as a small WebAssembly SIMD
// kernel (i32x4.dot_i16x8_s; exact, since the true sum fits the 32-bit lanes and wasm
// integer adds wrap modulo 2^32). Otherwise it falls back to golden.blockDot itself.
// test/sim-units.test.ts checks both paths against blockDot.
import { blockDot } from '../quant/golden.ts';

/** A pool of blocks: `count` blocks of `B` exact integer values, block k at [k*B, k*B + B). */
export interface ValuePool {
  readonly count: number;
  readonly values: Float64Array;
}

export interface BlockDotKernel {
  /** 'wasm-simd' or 'js' (golden.blockDot). */
  readonly kind: string;
  /**
   * sums[(t * rows + r) * cols + c] = blockDot(act[aIdx[t*rows + r]], wgt[wIdx[t*cols + c]]) for t < n.
   * The result view is reused by the next call.
   */
  sums(aIdx: Uint32Array, wIdx: Uint32Array, n: number): Int32Array | Float64Array;
}

// --- A hand-assembled WebAssembly module (about 150 bytes), so no toolchain is needed. ---
// (func (export "dots") (param aIdx wIdx n rows cols bp out aBase wBase)
//   for t < n, r < rows, c < cols:
//     a = aBase + load32(aIdx + 4*(t*rows + r)) * bp; w = wBase + load32(wIdx + 4*(t*cols + c)) * bp
//     v = Σ_k<bp/16 i32x4.dot_i16x8_s(load128(a + 16k), load128(w + 16k)); store32(out, hsum(v)); out += 4)
// Memory is imported so the caller sizes it.

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

// Opcodes used below.
const I32 = 0x7f;
const V128 = 0x7b;
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const tee = (i: number) => [0x22, i];
const i32c = (v: number) => [0x41, ...uleb(v)]; // small non-negative constants only (v < 64)
const add = [0x6a];
const mul = [0x6c];
const shl = [0x74];
const geU = [0x4f];
const ltU = [0x49];
const load32 = [0x28, 0x02, 0x00];
const store32 = [0x36, 0x02, 0x00];
const load128 = [0xfd, 0x00, 0x04, 0x00];
const v128zero = [0xfd, 0x0c, ...new Array(16).fill(0)];
const dot16 = [0xfd, 0xba, 0x01]; // i32x4.dot_i16x8_s
const addI32x4 = [0xfd, 0xae, 0x01];
const lane = (l: number) => [0xfd, 0x1b, l]; // i32x4.extract_lane
const block = (body: number[]) => [0x02, 0x40, ...body, 0x0b];
const loop = (body: number[]) => [0x03, 0x40, ...body, 0x0b];
const brIf = (d: number) => [0x0d, d];
const br = (d: number) => [0x0c, d];

// Locals: params 0..8, then t r c a w k (i32) and acc (v128).
const [AIDX, WIDX, N, ROWS, COLS, BP, OUT, ABASE, WBASE] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
const [T, R, C, A, W, K, ACC] = [9, 10, 11, 12, 13, 14, 15];
const incr = (i: number) => [...get(i), ...i32c(1), ...add, ...set(i)];
/** base + load32(idx + 4*(outer*count + inner)) * bp */
const entry = (idx: number, outer: number, count: number, inner: number, base: number) => [
  ...get(base),
  ...get(idx),
  ...get(outer),
  ...get(count),
  ...mul,
  ...get(inner),
  ...add,
  ...i32c(2),
  ...shl,
  ...add,
  ...load32,
  ...get(BP),
  ...mul,
  ...add,
];

const innerK = loop([
  ...get(ACC),
  ...get(A),
  ...get(K),
  ...add,
  ...load128,
  ...get(W),
  ...get(K),
  ...add,
  ...load128,
  ...dot16,
  ...addI32x4,
  ...set(ACC),
  ...get(K),
  ...i32c(16),
  ...add,
  ...tee(K),
  ...get(BP),
  ...ltU,
  ...brIf(0),
]);
const loopC = block(
  loop([
    ...get(C),
    ...get(COLS),
    ...geU,
    ...brIf(1),
    ...entry(WIDX, T, COLS, C, WBASE),
    ...set(W),
    ...v128zero,
    ...set(ACC),
    ...i32c(0),
    ...set(K),
    ...innerK,
    ...get(OUT),
    ...get(ACC),
    ...lane(0),
    ...get(ACC),
    ...lane(1),
    ...add,
    ...get(ACC),
    ...lane(2),
    ...add,
    ...get(ACC),
    ...lane(3),
    ...add,
    ...store32,
    ...get(OUT),
    ...i32c(4),
    ...add,
    ...set(OUT),
    ...incr(C),
    ...br(0),
  ]),
);
const loopR = block(
  loop([
    ...get(R),
    ...get(ROWS),
    ...geU,
    ...brIf(1),
    ...entry(AIDX, T, ROWS, R, ABASE),
    ...set(A),
    ...i32c(0),
    ...set(C),
    ...loopC,
    ...incr(R),
    ...br(0),
  ]),
);
const loopT = block(
  loop([...get(T), ...get(N), ...geU, ...brIf(1), ...i32c(0), ...set(R), ...loopR, ...incr(T), ...br(0)]),
);
const body = [
  ...vec([
    [...uleb(6), I32],
    [...uleb(1), V128],
  ]),
  ...loopT,
  0x0b,
];

const WASM = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00,
  ...section(1, vec([[0x60, ...vec(new Array(9).fill([I32])), 0x00]])),
  ...section(2, vec([[...name('e'), ...name('m'), 0x02, 0x00, 0x01]])),
  ...section(3, vec([[0x00]])),
  ...section(7, vec([[...name('dots'), 0x00, 0x00]])),
  ...section(10, vec([[...uleb(body.length), ...body]])),
]);

// The project's TypeScript lib has no WebAssembly types (no DOM lib): the little used here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
};

let compiled: object | null | undefined;
function wasmModule(): object | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(WASM);
    } catch {
      compiled = null; // no SIMD in this runtime: the JS path is used
    }
  }
  return compiled;
}

const fitsI16 = (v: Float64Array) => {
  for (let i = 0; i < v.length; i++) if (v[i]! < -32768 || v[i]! > 32767) return false;
  return true;
};

class WasmDots implements BlockDotKernel {
  readonly kind = 'wasm-simd';
  private memory: WasmMemory;
  private dots: (...args: number[]) => void;
  private readonly bp: number;
  private readonly aBase: number;
  private readonly wBase: number;
  private readonly dynBase: number;
  private capacity = 0;

  constructor(
    private readonly rows: number,
    private readonly cols: number,
    private readonly B: number,
    act: ValuePool,
    wgt: ValuePool,
  ) {
    // Each block padded with zeros to a multiple of 8 int16 values (16 bytes).
    this.bp = Math.ceil(B / 8) * 16;
    this.aBase = 0;
    this.wBase = act.count * this.bp;
    this.dynBase = this.wBase + wgt.count * this.bp;
    this.memory = new WebAssembly.Memory({ initial: Math.ceil((this.dynBase + 1) / 65536) });
    const inst = new WebAssembly.Instance(wasmModule()!, { e: { m: this.memory } });
    this.dots = inst.exports.dots as (...args: number[]) => void;
    this.fill(this.aBase, act);
    this.fill(this.wBase, wgt);
  }

  private fill(base: number, pool: ValuePool) {
    const stride = this.bp / 2;
    const view = new Int16Array(this.memory.buffer, base, pool.count * stride);
    for (let k = 0; k < pool.count; k++) {
      for (let i = 0; i < this.B; i++) view[k * stride + i] = pool.values[k * this.B + i]!;
    }
  }

  sums(aIdx: Uint32Array, wIdx: Uint32Array, n: number): Int32Array {
    const { rows, cols } = this;
    const aBytes = n * rows * 4;
    const wBytes = n * cols * 4;
    const outBytes = n * rows * cols * 4;
    const need = aBytes + wBytes + outBytes;
    if (need > this.capacity) {
      const total = this.dynBase + need;
      const pages = Math.ceil(total / 65536) - this.memory.buffer.byteLength / 65536;
      if (pages > 0) this.memory.grow(pages);
      this.capacity = need;
    }
    const aAt = this.dynBase;
    const wAt = aAt + aBytes;
    const outAt = wAt + wBytes;
    const buf = this.memory.buffer;
    new Uint32Array(buf, aAt, n * rows).set(aIdx.subarray(0, n * rows));
    new Uint32Array(buf, wAt, n * cols).set(wIdx.subarray(0, n * cols));
    this.dots(aAt, wAt, n, rows, cols, this.bp, outAt, this.aBase, this.wBase);
    return new Int32Array(buf, outAt, n * rows * cols);
  }
}

class JsDots implements BlockDotKernel {
  readonly kind = 'js';
  private out = new Float64Array(0);
  constructor(
    private readonly rows: number,
    private readonly cols: number,
    private readonly B: number,
    private readonly act: ValuePool,
    private readonly wgt: ValuePool,
  ) {}

  sums(aIdx: Uint32Array, wIdx: Uint32Array, n: number): Float64Array {
    const { rows, cols, B } = this;
    if (this.out.length < n * rows * cols) this.out = new Float64Array(n * rows * cols);
    const out = this.out;
    const a = this.act.values;
    const w = this.wgt.values;
    let o = 0;
    for (let t = 0; t < n; t++) {
      for (let r = 0; r < rows; r++) {
        const ao = aIdx[t * rows + r]! * B;
        for (let c = 0; c < cols; c++) out[o++] = blockDot(a, w, ao, wIdx[t * cols + c]! * B, B);
      }
    }
    return out;
  }
}

/**
 * The fastest exact kernel for these pools. `blockSumBits` is the config's worst-case
 * block-sum width (cfg.derived.blockSumBits); `force` picks a path (tests).
 */
export function blockDotKernel(
  rows: number,
  cols: number,
  B: number,
  act: ValuePool,
  wgt: ValuePool,
  blockSumBits: number,
  force?: 'js' | 'wasm-simd',
): BlockDotKernel {
  const wasmOk = blockSumBits <= 32 && fitsI16(act.values) && fitsI16(wgt.values) && wasmModule() !== null;
  if (force === 'wasm-simd' && !wasmOk) throw new Error('the wasm kernel cannot hold these values');
  if (force !== 'js' && wasmOk) return new WasmDots(rows, cols, B, act, wgt);
  return new JsDots(rows, cols, B, act, wgt);
}
