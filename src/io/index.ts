// The output and process layer every stage and command shares: output directory policy,
// child process groups and temp files, filesystem errors, the cache root; and the one seeded
// random generator (rng.ts).
export { CACHE_ENV, cacheDir, cacheRoot } from './cache.ts';
export { asUserError, FS_ERROR_EXIT, fsErrorMessage, fsStep, isFsError } from './fs-errors.ts';
export {
  checkOutputDir,
  checkOutputFile,
  checkWritable,
  claimOutputDir,
  type FileOutputOptions,
  MARKER,
  type OutputKind,
  type OutputOptions,
  writeOutputDir,
  writeOutputFile,
} from './output.ts';
export {
  childCpuSeconds,
  cleanupNow,
  installExitHandlers,
  keepTemp,
  liveGroups,
  longTimeout,
  MAX_TIMER_MS,
  registerTemp,
  removeTemp,
} from './process.ts';
export { Rng, seedOf } from './rng.ts';
export { type RunOptions, type RunResult, run, spawnGroup } from './run.ts';
