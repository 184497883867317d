// The accuracy report: per scheme the accuracy with its 95% interval, the paired change
// against INT8, the CER for OCR tasks, and the verdict on the "< 1 point loss" claim.
// Written as JSON, Markdown and an SVG bar chart with the intervals.
import type { SchemeScores } from './evaluate.ts';
import { isInt8, schemeLabel } from './schemes.ts';
import {
  type Interval,
  type PairedChange,
  pairedChange,
  pairedRatioChange,
  ratioInterval,
  wilson,
} from './stats.ts';

/** The claim under test: at most this many points (of 100) of loss against INT8. */
export const CLAIM_POINTS = 1;

export type Verdict = 'meets' | 'fails' | 'undecided';

export interface SchemeResult {
  readonly id: string;
  readonly label: string;
  readonly config?: {
    readonly name: string;
    readonly hash: string;
    readonly low: string;
    readonly block: number;
    readonly high: number;
    readonly mode: string;
    readonly select: string;
  };
  /** Layers an exception kept at INT8 under this scheme. */
  readonly keptInt8: readonly string[];
  readonly samples: number;
  readonly right: number;
  readonly accuracy: Interval;
  /** Against INT8 on the same samples (null for INT8 itself). */
  readonly change: PairedChange | null;
  /** meets: the whole 95% interval of the change is above -1 point; fails: all below; else undecided. */
  readonly verdict: Verdict | null;
  readonly cer?: Interval;
  readonly cerChange?: Interval | null;
  readonly examples?: readonly { label: string; read: string }[];
  readonly seconds: number;
}

export interface AccuracyReport {
  readonly schema: 'strumgen.accuracy/1';
  readonly task: string;
  readonly model: string;
  readonly modelSha256: string;
  readonly source: string;
  /** 'top-1' or 'exact lines'. */
  readonly metric: string;
  readonly samples: number;
  readonly schemes: readonly SchemeResult[];
  readonly reference: string;
  readonly tools: Record<string, string>;
  readonly command: string;
  readonly integer?: unknown;
  readonly rtl?: unknown;
  /** --activations int8 (index.ts ActivationsInfo). */
  readonly activations?: { readonly calibration: string; readonly tensors: number };
}

export function verdictOf(change: Interval | null): Verdict | null {
  if (!change) return null;
  const limit = -CLAIM_POINTS / 100;
  if (change.lo > limit) return 'meets';
  if (change.hi < limit) return 'fails';
  return 'undecided';
}

/** Results of every scheme, each compared with the INT8 run on the same samples. */
export function summarizeSchemes(runs: readonly SchemeScores[]): {
  results: SchemeResult[];
  reference: string;
} {
  const ref = runs.find((r) => isInt8(r.scheme));
  const results = runs.map((r) => {
    const s = r.scores;
    const n = s.correct.length;
    let right = 0;
    for (let i = 0; i < n; i++) right += s.correct[i]!;
    const change = ref && r !== ref ? pairedChange(s.correct, ref.scores.correct) : null;
    const cfg = r.scheme.kind === 'config' ? r.scheme.cfg : undefined;
    const ocr = s.edits && s.refLength;
    return {
      id: r.scheme.id,
      label: schemeLabel(r.scheme),
      ...(cfg && r.scheme.kind === 'config'
        ? {
            config: {
              name: cfg.name,
              hash: cfg.hash,
              low: cfg.pe.low,
              block: cfg.pe.block,
              high: cfg.pe.high,
              mode: cfg.pe.mode,
              select: r.scheme.select,
            },
          }
        : {}),
      keptInt8: r.keptInt8,
      samples: n,
      right,
      accuracy: wilson(right, n),
      change,
      verdict: verdictOf(change),
      ...(ocr
        ? {
            cer: ratioInterval(s.edits, s.refLength),
            cerChange:
              ref?.scores.edits && r !== ref
                ? pairedRatioChange(s.edits, ref.scores.edits, s.refLength)
                : null,
            examples: s.examples,
          }
        : {}),
      seconds: r.seconds,
    } satisfies SchemeResult;
  });
  return { results, reference: ref?.scheme.id ?? '' };
}

const pct = (x: number) => (100 * x).toFixed(2);
const pts = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}`;
export const intervalText = (i: Interval) => `${pct(i.value)} [${pct(i.lo)}, ${pct(i.hi)}]`;
export const changeText = (i: Interval) => `${pts(i.value)} [${pts(i.lo)}, ${pts(i.hi)}]`;

/** The Markdown table of a report's schemes. */
export function schemeTable(r: AccuracyReport): string {
  const ocr = r.schemes.some((s) => s.cer);
  const head = [
    'scheme',
    `${r.metric} % [95% CI]`,
    `change vs INT8, points [95% CI]`,
    ...(ocr ? ['CER % [95% CI]', 'CER change, points [95% CI]'] : []),
    `within ${CLAIM_POINTS} point`,
  ];
  const rows = r.schemes.map((s) => [
    s.label + (s.keptInt8.length ? ` (INT8: ${s.keptInt8.join(', ')})` : ''),
    intervalText(s.accuracy),
    s.change ? changeText(s.change) : s.id === r.reference ? '(reference)' : '',
    ...(ocr ? [s.cer ? intervalText(s.cer) : '', s.cerChange ? changeText(s.cerChange) : ''] : []),
    s.verdict ?? '',
  ]);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

export function renderMarkdown(r: AccuracyReport, extra = ''): string {
  const lines = [
    `# Accuracy: ${r.task}`,
    '',
    `Model \`${r.model}\` (sha256 ${r.modelSha256.slice(0, 16)}), ${r.samples} samples from ${r.source}; ` +
      `metric: ${r.metric}. Weights quantized by strumgen and written back into the graph (fake quantization), ` +
      `run with onnxruntime-node ${r.tools.onnxruntime}.`,
    '',
    ...(r.activations
      ? [
          `Activations: int8 at the input of every weight layer (${r.activations.tensors} tensors; one scale per ` +
            `tensor, max |x| / 127 on ${r.activations.calibration}), under every scheme but float; an SDP ` +
            'design on the activations also keeps only its K most important nibble parts per group of G (docs/ACCURACY.md, "Int8 activations").',
          '',
        ]
      : []),
    schemeTable(r),
    '',
    `Intervals: accuracy 95% Wilson; change against INT8 paired on the same samples (Agresti-Min); CER by a ` +
      `seeded bootstrap. "within ${CLAIM_POINTS} point": meets when the whole interval of the change lies above ` +
      `-${CLAIM_POINTS}, fails when it lies below, else undecided (more samples needed).`,
    '',
  ];
  const ex = r.schemes.filter((s) => s.examples?.length);
  if (ex.length) {
    lines.push('Misread lines (first few per scheme):', '');
    for (const s of ex) {
      lines.push(`- ${s.label}: ${s.examples!.map((e) => `"${e.label}" read "${e.read}"`).join('; ')}`);
    }
    lines.push('');
  }
  if (extra) lines.push(extra, '');
  lines.push(`Command: \`${r.command}\``, '');
  return lines.join('\n');
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Horizontal bars of accuracy per scheme with the 95% interval as whiskers. */
export function renderSvg(r: AccuracyReport): string {
  const rowH = 26;
  const left = 260;
  const width = 760;
  const plotW = width - left - 70;
  const top = 40;
  const height = top + r.schemes.length * rowH + 58;
  const lo = Math.max(0, Math.floor(Math.min(...r.schemes.map((s) => s.accuracy.lo)) * 10) / 10 - 0.1);
  const x = (v: number) => left + ((v - lo) / (1 - lo)) * plotW;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<title>${esc(`${r.task}: ${r.metric} per scheme`)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="20" font-size="14">${esc(`${r.task}: ${r.metric} per scheme (95% interval), ${r.samples} samples`)}</text>`,
  ];
  for (let t = Math.ceil(lo * 10); t <= 10; t++) {
    const v = t / 10;
    parts.push(
      `<line x1="${x(v)}" y1="${top - 5}" x2="${x(v)}" y2="${height - 48}" stroke="#ddd"/>`,
      `<text x="${x(v)}" y="${height - 33}" text-anchor="middle">${(v * 100).toFixed(0)}%</text>`,
    );
  }
  r.schemes.forEach((s, i) => {
    const y = top + i * rowH;
    const color =
      s.id === r.reference
        ? '#888'
        : s.verdict === 'fails'
          ? '#d9534f'
          : s.verdict === 'meets'
            ? '#5cb85c'
            : '#5b8dd6';
    parts.push(
      `<text x="${left - 8}" y="${y + 16}" text-anchor="end">${esc(s.label)}</text>`,
      `<rect x="${left}" y="${y + 4}" width="${Math.max(0, x(s.accuracy.value) - left)}" height="${rowH - 8}" fill="${color}"/>`,
      `<line x1="${x(s.accuracy.lo)}" y1="${y + rowH / 2}" x2="${x(s.accuracy.hi)}" y2="${y + rowH / 2}" stroke="black"/>`,
      `<line x1="${x(s.accuracy.lo)}" y1="${y + 7}" x2="${x(s.accuracy.lo)}" y2="${y + rowH - 7}" stroke="black"/>`,
      `<line x1="${x(s.accuracy.hi)}" y1="${y + 7}" x2="${x(s.accuracy.hi)}" y2="${y + rowH - 7}" stroke="black"/>`,
      `<text x="${x(s.accuracy.hi) + 6}" y="${y + 16}">${pct(s.accuracy.value)}</text>`,
    );
  });
  parts.push(
    `<text x="10" y="${height - 10}" font-size="11">grey: INT8 (reference); green: within ${CLAIM_POINTS} point of INT8; ` +
      `red: more than ${CLAIM_POINTS} point below; blue: undecided (paired 95% interval)</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}
