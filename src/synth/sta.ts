// Parsers for OpenSTA's `report_checks -format full` and `report_power` output.

export interface CriticalPath {
  /** Pin or port name, e.g. 'in_wgt[0]' or 'u_acc/_621_'. */
  readonly startpoint: string;
  readonly endpoint: string;
  /** What OpenSTA says they are, e.g. 'input port clocked by clk'. */
  readonly startpointKind: string;
  readonly endpointKind: string;
  readonly arrivalNs: number;
  readonly requiredNs: number;
  /** required - arrival against the nominal clock; negative when the path does not meet it. */
  readonly slackNs: number;
  /** Cells on the path (lines with a cell type in parentheses). */
  readonly stages: number;
}

/** The worst path of `report_checks -path_delay max -format full`; throws when there is none. */
export function parseCriticalPath(text: string): CriticalPath {
  if (/No paths found/.test(text)) throw new Error('OpenSTA found no timing path (is the clock port right?)');
  const start = /^Startpoint:\s*(.+)$/m.exec(text);
  const end = /^Endpoint:\s*(.+)$/m.exec(text);
  const arrival = /^\s*(-?[0-9.]+)\s+data arrival time\s*$/m.exec(text);
  const required = /^\s*(-?[0-9.]+)\s+data required time\s*$/m.exec(text);
  const slack = /^\s*(-?[0-9.]+)\s+slack \((MET|VIOLATED)\)\s*$/m.exec(text);
  if (!start || !end || !arrival || !required || !slack) {
    throw new Error(
      'OpenSTA report has no complete path (Startpoint, Endpoint, arrival, required and slack)',
    );
  }
  const pathText = text.slice(start.index, arrival.index);
  const stages = [
    ...pathText.matchAll(/^\s*-?[0-9.]+\s+-?[0-9.]+\s+[v^]\s+\S+\/\S+\s+\([A-Za-z0-9_]+\)\s*$/gm),
  ].length;
  const point = (s: string) => {
    const m = /^(\S+)\s*(?:\((.*)\))?\s*$/.exec(s.trim());
    return { name: m?.[1] ?? s.trim(), kind: m?.[2] ?? '' };
  };
  const sp = point(start[1]!);
  const ep = point(end[1]!);
  return {
    startpoint: sp.name,
    endpoint: ep.name,
    startpointKind: sp.kind,
    endpointKind: ep.kind,
    arrivalNs: Number(arrival[1]),
    requiredNs: Number(required[1]),
    slackNs: Number(slack[1]),
    stages,
  };
}

export interface PowerReport {
  readonly internalW: number;
  readonly switchingW: number;
  readonly leakageW: number;
  readonly totalW: number;
}

/** The Total row of `report_power`, or null when the report has none. */
export function parsePower(text: string): PowerReport | null {
  const num = '([0-9.]+(?:e[-+]?[0-9]+)?)';
  const m = new RegExp(`^Total\\s+${num}\\s+${num}\\s+${num}\\s+${num}`, 'm').exec(text);
  if (!m) return null;
  return { internalW: Number(m[1]), switchingW: Number(m[2]), leakageW: Number(m[3]), totalW: Number(m[4]) };
}
