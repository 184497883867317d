// Expected results and the bulk comparison. The checker follows the stream like the
// golden model (golden.ts `accumulate` per PE per valid cycle, block sums from the bulk
// kernel in dot.ts), queues the expected results of every tile, and compares them with
// the harness's out_data records as they arrive. A mismatching PE is then replayed with
// golden.ts `GoldenArray` to report its partial sums and a hint at the faulty lane.
import type { ResolvedDpu } from '../config/resolve.ts';
import { toSigned } from '../format/bits.ts';
import { readBits } from '../format/pack.ts';
import { formatOf } from '../format/registry.ts';
import { GoldenArray, wrapSigned } from '../quant/golden.ts';
import type { BlockDotKernel } from './dot.ts';
import {
  type BlockPool,
  type Chunk,
  CTL_CLEAR,
  CTL_LAST,
  CTL_VALID,
  type PortGeometry,
  type TileInfo,
  type WeightPool,
} from './stimulus.ts';

export type MismatchKind = 'value' | 'timing' | 'missing' | 'extra';

/** One partial-sum step of a mismatching PE (golden model), oldest first. */
export interface PartialSum {
  readonly cycle: number;
  readonly clear: boolean;
  readonly blockSum: number;
  readonly acc: number;
}

export interface MismatchReport {
  readonly kind: MismatchKind;
  readonly tile: number;
  /** The PE; -1 when the report is about the whole tile (timing, missing, extra). */
  readonly row: number;
  readonly col: number;
  /** Stream cycle of the tile's last block (the block with in_last). */
  readonly cycle: number;
  /** Stream cycle of the tile's first block. */
  readonly firstCycle: number;
  /** Stream cycle at which out_valid was seen, or null when it never was. */
  readonly outCycle: number | null;
  readonly expected: number | null;
  readonly actual: number | null;
  /** Edge-case name of the tile ('' for a random tile). */
  readonly label: string;
  /** Command that re-runs the same stream up to this tile and checks only it. */
  readonly rerun: string;
  /** The golden accumulator of this PE after every valid block of the tile (value reports, first few). */
  readonly partialSums?: readonly PartialSum[];
  readonly hint?: string;
  /** One line for people. */
  readonly message: string;
}

interface Pending {
  readonly tile: TileInfo;
  readonly expected: Float64Array;
  readonly chunk: Chunk;
  /** Accumulators before the tile's first cycle, when it does not start with clear. */
  readonly accBefore: Float64Array | null;
}

export interface CheckerOptions {
  /** Out_valid is expected this many cycles after the cycle of the block with in_last. */
  readonly outputDelay: number;
  /** The format's layer metadata (decoded values already include it; the replay needs it too). */
  readonly layerMeta: readonly number[];
  /** Reports kept in full (the count covers every mismatch). */
  readonly maxReports?: number;
  /** Check only this tile (re-run of one case). */
  readonly onlyTile?: number;
  /** Labels of the edge-case tiles. */
  readonly labels?: ReadonlyMap<number, string>;
  /** rerun(tile): the command that re-runs one tile. */
  readonly rerun: (tile: number) => string;
}

/** acc = clear ? sums : acc + sums, for one cycle's PEs. */
function addSums(acc: Float64Array, sums: Int32Array | Float64Array, at: number, clear: boolean): void {
  if (clear) for (let i = 0; i < acc.length; i++) acc[i] = sums[at + i]!;
  else for (let i = 0; i < acc.length; i++) acc[i]! += sums[at + i]!;
}

/** golden.ts wrapSigned on every accumulator (called only for values out of range: it is the slow part). */
function wrapAll(acc: Float64Array, bits: number): void {
  const half = HALF[bits]!;
  for (let i = 0; i < acc.length; i++) {
    const v = acc[i]!;
    if (v < -half || v >= half) acc[i] = wrapSigned(v, bits);
  }
}
const HALF = Array.from({ length: 54 }, (_, b) => 2 ** (b - 1));

export class Checker {
  readonly acc: Float64Array;
  private readonly queue: Pending[] = [];
  private head = 0;
  /** Mismatching values plus tile-level problems. */
  mismatches = 0;
  tilesChecked = 0;
  readonly reports: MismatchReport[] = [];
  /** PEs with at least one mismatching value, as "r,c". */
  readonly badPes = new Set<string>();
  private readonly RC: number;
  private readonly accBits: number;

  constructor(
    private readonly cfg: ResolvedDpu,
    private readonly geom: PortGeometry,
    private readonly act: BlockPool,
    private readonly wgt: WeightPool,
    private readonly kernel: BlockDotKernel,
    private readonly opts: CheckerOptions,
  ) {
    this.RC = geom.rows * geom.cols;
    this.acc = new Float64Array(this.RC);
    this.accBits = cfg.accumulator.bits;
  }

  /**
   * Expected results of every tile in the chunk (call in stream order). The accumulators
   * add exact block sums and wrap (golden.ts wrapSigned) when a tile is captured and at
   * the end of the chunk (and every 1024 cycles): the same residues as golden.ts `accumulate` wrapping every
   * step, since wrapping is reduction modulo 2^bits, and exact because 1024 block sums stay
   * far below 2^53. test/sim-units.test.ts checks it against GoldenArray.
   */
  feed(chunk: Chunk): void {
    const { RC, accBits } = this;
    const sums = this.kernel.sums(chunk.aIdx, chunk.wIdx, chunk.n);
    const { acc } = this;
    const { ctl, tiles, start } = chunk;
    let next = 0;
    let accBefore: Float64Array | null = null;
    for (let t = 0; t < chunk.n; t++) {
      const tile = tiles[next];
      const bits = ctl[t]!;
      if (tile && t === tile.first - start) {
        if (!(bits & CTL_CLEAR)) wrapAll(acc, accBits);
        accBefore = bits & CTL_CLEAR ? null : acc.slice();
      }
      // Wrap now and then so long tiles stay exact (|acc| + 1024 block sums < 2^53).
      if ((t & 1023) === 1023) wrapAll(acc, accBits);
      if (!(bits & CTL_VALID)) continue;
      addSums(acc, sums, t * RC, (bits & CTL_CLEAR) !== 0);
      if (bits & CTL_LAST) {
        wrapAll(acc, accBits);
        this.queue.push({ tile: tile!, expected: acc.slice(), chunk, accBefore });
        next++;
      }
    }
    wrapAll(acc, accBits);
  }

  get pendingTiles(): number {
    return this.queue.length - this.head;
  }

  private report(r: Omit<MismatchReport, 'rerun' | 'label'>): void {
    if (this.reports.length >= (this.opts.maxReports ?? 10)) return;
    const label = this.opts.labels?.get(r.tile) ?? '';
    this.reports.push({ ...r, label, rerun: this.opts.rerun(r.tile) });
  }

  /**
   * Compare `count` harness output records starting at word `at` of `words`
   * (each: cycle, then rows x outWords words of out_data).
   */
  compare(words: Uint32Array, at: number, count: number): void {
    const { rows, cols, outWords } = this.geom;
    const rec = 1 + rows * outWords;
    const bits = this.accBits;
    const fast = bits === 32;
    for (let k = 0; k < count; k++) {
      const base = at + k * rec;
      const outCycle = words[base]!;
      const p = this.queue[this.head];
      if (!p) {
        this.mismatches++;
        this.report({
          kind: 'extra',
          tile: -1,
          row: -1,
          col: -1,
          cycle: outCycle,
          firstCycle: outCycle,
          outCycle,
          expected: null,
          actual: null,
          message: `out_valid at cycle ${outCycle} with no tile left to capture`,
        });
        continue;
      }
      this.queue[this.head++] = undefined as never; // let the chunk go
      const { tile, expected } = p;
      if (this.opts.onlyTile !== undefined && tile.index !== this.opts.onlyTile) continue;
      this.tilesChecked++;
      if (outCycle - tile.last !== this.opts.outputDelay) {
        this.mismatches++;
        this.report({
          kind: 'timing',
          tile: tile.index,
          row: -1,
          col: -1,
          cycle: tile.last,
          firstCycle: tile.first,
          outCycle,
          expected: null,
          actual: null,
          message:
            `tile ${tile.index}: out_valid at cycle ${outCycle}, expected ${tile.last + this.opts.outputDelay} ` +
            `(${this.opts.outputDelay} after its last block at cycle ${tile.last})`,
        });
      }
      for (let r = 0; r < rows; r++) {
        const rowAt = base + 1 + r * outWords;
        for (let c = 0; c < cols; c++) {
          const want = expected[r * cols + c]!;
          const got = fast
            ? words[rowAt + c]! | 0
            : toSigned(readBits(words.subarray(rowAt, rowAt + outWords), c * bits, bits), bits);
          if (got !== want) this.valueMismatch(p, r, c, want, got, outCycle);
        }
      }
    }
    // Drop consumed entries now and then so the queue does not grow without bound.
    if (this.head > 4096) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private valueMismatch(p: Pending, r: number, c: number, want: number, got: number, outCycle: number) {
    this.mismatches++;
    this.badPes.add(`${r},${c}`);
    if (this.reports.length >= (this.opts.maxReports ?? 10)) return;
    const { partialSums, hint } = this.explain(p, r, c, got);
    this.report({
      kind: 'value',
      tile: p.tile.index,
      row: r,
      col: c,
      cycle: p.tile.last,
      firstCycle: p.tile.first,
      outCycle,
      expected: want,
      actual: got,
      partialSums,
      hint,
      message:
        `tile ${p.tile.index} (last block at cycle ${p.tile.last}): PE (row ${r}, col ${c}) ` +
        `out_data expected ${want}, got ${got}`,
    });
  }

  /** Replay the tile through GoldenArray for this PE's partial sums and a lane hint. */
  private explain(
    p: Pending,
    r: number,
    c: number,
    got: number,
  ): { partialSums: PartialSum[]; hint: string } {
    const { cfg, act, wgt } = this;
    const { rows, cols } = this.geom;
    const B = cfg.pe.block;
    const golden = new GoldenArray(cfg, this.opts.layerMeta);
    if (p.accBefore) golden.acc.set(p.accBefore);
    const { chunk, tile } = p;
    const partialSums: PartialSum[] = [];
    // Per lane: this PE's products since the last clear. A static StruM PE sends the i-th
    // high position of a block to high lane i and the j-th low one to low lane j (the packed
    // order of docs/FORMATS.md); other PEs have one lane per position.
    const routed = cfg.pe.mode === 'static' && formatOf(cfg).hasLow;
    const lanes = new Float64Array(2 * B);
    const laneName = (k: number) => (!routed ? `lane ${k}` : k < B ? `high lane ${k}` : `low lane ${k - B}`);
    const actOf = (k: number) => Array.from(act.values.subarray(k * B, (k + 1) * B));
    for (let cy = tile.first; cy <= tile.last; cy++) {
      const t = cy - chunk.start;
      const bits = chunk.ctl[t]!;
      const valid = (bits & CTL_VALID) !== 0;
      const clear = (bits & CTL_CLEAR) !== 0;
      const before = golden.acc[r * cols + c]!;
      golden.step({
        valid,
        clear,
        last: (bits & CTL_LAST) !== 0,
        act: Array.from({ length: rows }, (_, i) => actOf(chunk.aIdx[t * rows + i]!)),
        wgt: Array.from({ length: cols }, (_, j) => wgt.blocks[chunk.wIdx[t * cols + j]!]!),
      });
      if (!valid) continue;
      if (clear) lanes.fill(0);
      const ak = chunk.aIdx[t * rows + r]! * B;
      const wk = chunk.wIdx[t * cols + c]! * B;
      const low = wgt.blocks[chunk.wIdx[t * cols + c]!]!.low;
      let nh = 0;
      let nl = B;
      for (let i = 0; i < B; i++) {
        const lane = !routed ? i : low[i] ? nl++ : nh++;
        lanes[lane]! += act.values[ak + i]! * wgt.values[wk + i]!;
      }
      const accNow = golden.acc[r * cols + c]!;
      const blockSum = clear ? accNow : accNow - before;
      partialSums.push({
        cycle: cy,
        clear,
        blockSum: wrapSigned(blockSum, cfg.accumulator.bits),
        acc: accNow,
      });
    }
    const want = golden.acc[r * cols + c]!;
    const diff = wrapSigned(got - want, cfg.accumulator.bits);
    const wrapEq = (x: number) => wrapSigned(x - diff, cfg.accumulator.bits) === 0;
    const flips: number[] = [];
    const drops: number[] = [];
    for (let k = 0; k < 2 * B; k++) {
      if (lanes[k] === 0) continue;
      if (wrapEq(-2 * lanes[k]!)) flips.push(k);
      if (wrapEq(-lanes[k]!)) drops.push(k);
    }
    const names = (list: number[]) =>
      list.length === 1
        ? laneName(list[0]!)
        : `one of ${list.slice(0, 6).map(laneName).join(', ')}${list.length > 6 ? ', ...' : ''}`;
    let hint = `difference ${diff}`;
    if (flips.length) hint += ` = -2x the tile's products in ${names(flips)}: a flipped sign there?`;
    else if (drops.length)
      hint += ` = minus the tile's products in ${names(drops)}: that lane dropped or misrouted?`;
    if (want !== p.expected[r * cols + c]) {
      hint = `internal error: the golden replay (${want}) disagrees with the bulk checker (${p.expected[r * cols + c]})`;
    }
    const keep = 16;
    const trimmed =
      partialSums.length > keep
        ? [...partialSums.slice(0, keep / 2), ...partialSums.slice(-keep / 2)]
        : partialSums;
    return { partialSums: trimmed, hint };
  }

  /** After the harness has finished: every tile still queued never produced out_valid. */
  finish(): void {
    while (this.head < this.queue.length) {
      const p = this.queue[this.head++]!;
      if (this.opts.onlyTile !== undefined && p.tile.index !== this.opts.onlyTile) continue;
      this.mismatches++;
      this.report({
        kind: 'missing',
        tile: p.tile.index,
        row: -1,
        col: -1,
        cycle: p.tile.last,
        firstCycle: p.tile.first,
        outCycle: null,
        expected: null,
        actual: null,
        message: `tile ${p.tile.index} (last block at cycle ${p.tile.last}): no out_valid`,
      });
    }
    this.queue.length = 0;
    this.head = 0;
  }
}
