import { ChaosArgsError, parseChaosArgs, usage } from '../chaos-args.js';
import { runChaos } from '../run-chaos.js';
import { formatSummary, replayCommand } from '../summary.js';

// npm run chaos -- [options]: see usage(). Progress goes to stderr, the summary to stdout.
let options;
try {
  options = parseChaosArgs(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof ChaosArgsError || (err instanceof TypeError && 'code' in err))) throw err;
  console.error(`${err.message}\n\n${usage()}`);
  process.exit(2);
}
if (!options) {
  console.log(usage());
  process.exit(0);
}
const started = Date.now();
options.progress = (line) =>
  console.error(`[chaos ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
try {
  const result = await runChaos(options);
  console.log(formatSummary(result));
  process.exitCode = !result.valid ? 1 : result.harnessErrors.length > 0 ? 2 : 0;
} catch (err) {
  console.error(err);
  console.error(`The run itself failed (seed ${options.seed}). Replay with: ${replayCommand(options)}`);
  process.exitCode = 2;
}
