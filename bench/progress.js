// The progress line on stderr: rewritten in place on a terminal; elsewhere (CI, a test) one line per step and at
// most one line every 10 s within a step.
import { stderr } from 'node:process';

/** Returns `{ step(name), update(text), clear() }`. */
export function createProgress({ steps, stream = stderr }) {
  const started = performance.now();
  let step = 0;
  let name = '';
  let printedAt = 0;
  const clock = () => {
    const s = Math.round((performance.now() - started) / 1000);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  };
  const write = (text, force) => {
    const line = `[${step}/${steps} ${clock()}] ${text}`;
    if (stream.isTTY) stream.write(`\r\x1b[K${line.slice(0, (stream.columns ?? 120) - 1)}`);
    else if (force || performance.now() - printedAt > 10_000) {
      printedAt = performance.now();
      stream.write(`${line}\n`);
    }
  };
  return {
    step(next) {
      step += 1;
      name = next;
      write(name, true);
    },
    update(text) {
      write(text ?? name, false);
    },
    clear() {
      if (stream.isTTY) stream.write('\r\x1b[K');
    },
  };
}
