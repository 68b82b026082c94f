import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { spawnApp, type SpawnedApp } from '@sluice/test-support';

/**
 * Called with a one-line description when an app ends in a way the nemesis did not ask for (`note` for an exit that
 * is odd but harmless, which the summary lists without failing the run).
 */
export type ExitProblemSink = (problem: string, severity?: 'note') => void;

/** Settings of a {@link ManagedApp}. */
export interface ManagedAppOptions {
  /** How it is named in the summary and its log file (`<label>.log` in `logDir`). */
  label: string;
  script: string;
  env: Record<string, string>;
  logDir: string;
  onProblem: ExitProblemSink;
  /** A SIGTERM must end it within this long. @defaultValue 15000 */
  stopTimeoutMs?: number;
}

/**
 * One built app that the nemesis starts and stops. It knows whether an exit was asked for: an exit nobody asked for,
 * or anything but exit code 0 after a SIGTERM, is reported through `onProblem` ("no app exited except by the
 * nemesis"). Each incarnation's output is appended to its log file when it ends.
 */
export class ManagedApp {
  readonly label: string;
  readonly #options: ManagedAppOptions;
  #app: SpawnedApp | undefined;
  #asked: 'SIGTERM' | 'SIGKILL' | undefined;
  #stopping: Promise<number | null> | undefined;
  #incarnation = 0;

  constructor(options: ManagedAppOptions) {
    this.#options = options;
    this.label = options.label;
  }

  /** Whether a process of it is alive (started and not yet exited). */
  get running(): boolean {
    return this.#app !== undefined;
  }

  /** Its output so far (this incarnation). */
  output(): string {
    return this.#app?.output() ?? '';
  }

  /** Starts a new process (no-op while one runs). */
  start(): void {
    if (this.#app) return;
    const app = spawnApp(this.#options.script, this.#options.env);
    const incarnation = ++this.#incarnation;
    this.#app = app;
    this.#asked = undefined;
    this.#stopping = undefined;
    void app.exited.then((code) => this.#onExit(app, incarnation, code));
  }

  /**
   * Sends `signal` and resolves with the exit code once it has exited (null after a kill). A SIGTERM that has not
   * ended it within the stop timeout is reported and followed by SIGKILL. Stopping while a stop is under way waits for
   * that one, unless this one is a SIGKILL, which escalates.
   */
  stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<number | null> {
    const app = this.#app;
    if (!app) return Promise.resolve(null);
    if (this.#stopping && (signal === 'SIGTERM' || this.#asked === 'SIGKILL')) return this.#stopping;
    this.#asked = signal;
    app.proc.kill(signal);
    const timeoutMs = this.#options.stopTimeoutMs ?? 15_000;
    this.#stopping = (async () => {
      if (signal === 'SIGKILL') return app.exited;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(resolve, timeoutMs, 'late')));
      const code = await Promise.race([app.exited, late]);
      clearTimeout(timer);
      if (code !== 'late') return code;
      this.#options.onProblem(`${this.label} did not exit within ${timeoutMs} ms of SIGTERM; killed`);
      this.#asked = 'SIGKILL';
      app.proc.kill('SIGKILL');
      return app.exited;
    })();
    return this.#stopping;
  }

  #onExit(app: SpawnedApp, incarnation: number, code: number | null): void {
    if (this.#app === app) this.#app = undefined;
    const how = code === null ? `signal ${app.proc.signalCode ?? '?'}` : `code ${code}`;
    if (this.#asked === undefined)
      this.#options.onProblem(`${this.label} (pid ${app.proc.pid}) exited by itself (${how})${lastWords(app)}`);
    else if (this.#asked === 'SIGTERM' && code === null && app.output() === '')
      // Node's default action: the signal came while the process was still loading its modules, before main.ts had
      // registered its handler or connected to anything.
      this.#options.onProblem(
        `${this.label} (pid ${app.proc.pid}) was ended by a SIGTERM before its first line`,
        'note',
      );
    else if (this.#asked === 'SIGTERM' && code !== 0)
      this.#options.onProblem(`${this.label} (pid ${app.proc.pid}) exited with ${how} after SIGTERM, not 0`);
    const header = `--- ${this.label} #${incarnation} pid ${app.proc.pid}: ended by ${this.#asked ?? 'itself'} (${how})\n`;
    appendFileSync(path.join(this.#options.logDir, `${this.label}.log`), header + app.output());
  }
}

/** The app's last fatal log line, as `: <msg> (<error message>)`, or nothing. */
function lastWords(app: SpawnedApp): string {
  const fatal = app
    .output()
    .split('\n')
    .filter((line) => line.includes('"level":"fatal"'))
    .at(-1);
  if (!fatal) return '';
  try {
    const { msg, err } = JSON.parse(fatal) as { msg?: string; err?: { message?: string } };
    return `: ${msg ?? ''}${err?.message ? ` (${err.message})` : ''}`;
  } catch {
    return '';
  }
}
