// Pareto fronts of two objectives. A point is on the front when no other point is at least as
// good on both and strictly better on one. Figures are changes against the INT8 PE of the same
// B and pipeline, so PEs of different throughput compare fairly.

export type FrontName = 'area-accuracy' | 'power-accuracy' | 'area-power';

export interface Objective {
  readonly key: 'areaChangePct' | 'powerChangePct' | 'top1ChangePp';
  readonly better: 'lower' | 'higher';
  readonly title: string;
}

export interface FrontSpec {
  readonly name: FrontName;
  readonly title: string;
  readonly x: Objective;
  readonly y: Objective;
}

const AREA: Objective = { key: 'areaChangePct', better: 'lower', title: 'PE area vs INT8 (%)' };
const POWER: Objective = { key: 'powerChangePct', better: 'lower', title: 'PE power vs INT8 (%)' };
const ACC: Objective = { key: 'top1ChangePp', better: 'higher', title: 'top-1 vs INT8 (points)' };

export const FRONTS: readonly FrontSpec[] = [
  { name: 'area-accuracy', title: 'area against accuracy', x: AREA, y: ACC },
  { name: 'power-accuracy', title: 'power against accuracy', x: POWER, y: ACC },
  { name: 'area-power', title: 'area against power', x: AREA, y: POWER },
];

type Row = { readonly index: number } & Partial<Record<Objective['key'], number | null>>;

/** The non-dominated rows (those with both figures), sorted by x from best to worst. */
export function paretoFront<T extends Row>(rows: readonly T[], f: Pick<FrontSpec, 'x' | 'y'>): T[] {
  const score = (o: Objective, r: T) => {
    const v = r[o.key] as number;
    return o.better === 'lower' ? v : -v; // lower is better after this
  };
  const have = rows.filter(
    (r) =>
      typeof r[f.x.key] === 'number' &&
      Number.isFinite(r[f.x.key]) &&
      typeof r[f.y.key] === 'number' &&
      Number.isFinite(r[f.y.key]),
  );
  const front = have.filter(
    (a) =>
      !have.some((b) => {
        if (b === a) return false;
        const bx = score(f.x, b);
        const by = score(f.y, b);
        const ax = score(f.x, a);
        const ay = score(f.y, a);
        return bx <= ax && by <= ay && (bx < ax || by < ay);
      }),
  );
  front.sort((a, b) => score(f.x, a) - score(f.x, b) || score(f.y, a) - score(f.y, b) || a.index - b.index);
  // Points with identical figures (e.g. every INT8 baseline at 0, 0) are listed once.
  return front.filter(
    (r, i) =>
      i === 0 || score(f.x, r) !== score(f.x, front[i - 1]!) || score(f.y, r) !== score(f.y, front[i - 1]!),
  );
}
