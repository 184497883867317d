// Output directories: every stage that writes one (rtl, report, cli) goes through
// replaceOutputDir, which applies the one output policy of src/io/output.ts: strumgen writes
// only into directories it created and marked, replaces only its own files there (a user's
// files survive), refuses anything else with one line, and stages the new files so an error
// or interrupt leaves the previous output as it was.
import { type OutputKind, type OutputOptions, writeOutputDir } from '../io/output.ts';

/** How to recognise an earlier output of the same kind. */
export interface OutputMarker {
  /** The kind written into the marker, e.g. 'rtl'; a directory of another kind is refused. */
  readonly kind: string;
  /** A JSON file that marked this kind before the generic marker existed, e.g. 'manifest.json'. */
  readonly file: string;
  /** true when the parsed legacy file says this directory is ours */
  readonly owns: (json: Record<string, unknown>) => boolean;
  /** what the directory would be, for the error message, e.g. 'a strumgen RTL output' */
  readonly label: string;
}

export const outputKind = (m: OutputMarker): OutputKind => ({
  kind: m.kind,
  label: m.label,
  legacy: { file: m.file, owns: m.owns },
});

/**
 * Write an output directory of `marker`'s kind: `fill(tmp)` writes the complete output into
 * an empty staging directory, then its files replace ours in `outDir`. Returns the absolute path.
 */
export function replaceOutputDir(
  outDir: string,
  marker: OutputMarker,
  fill: (tmp: string) => Promise<void>,
  opts: OutputOptions = {},
): Promise<string> {
  return writeOutputDir(outDir, outputKind(marker), fill, opts);
}
