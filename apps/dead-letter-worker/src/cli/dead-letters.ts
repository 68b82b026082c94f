import { runDeadLettersCli } from './dead-letters.cli.js';

// `npm run dead-letters -- <list|retry|purge> ...`: the entry point; everything else is in dead-letters.cli.ts.
process.exitCode = await runDeadLettersCli(process.argv.slice(2), {
  env: process.env,
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
});
