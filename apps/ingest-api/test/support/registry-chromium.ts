import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sparticuzChromium from '@sparticuz/chromium';
import { chromium, type Browser } from 'playwright-core';

/** A headless Chromium and the folder its binary was unpacked into; `close()` ends the one and removes the other. */
export interface RegistryBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/**
 * Launches the Chromium that the `@sparticuz/chromium` devDependency ships (brotli files inside the package), so the
 * browser test needs no system package and downloads nothing.
 *
 * The package unpacks into `os.tmpdir()` and reuses whatever `chromium` it finds there, which on a shared /tmp may be
 * half-written by a parallel run, left truncated by a killed one, or another version. So each launch unpacks
 * (about 1.5 s) into a fresh folder of its own, pointed at through TMPDIR only for the duration of the unpacking,
 * and removes it again on close.
 */
export async function launchRegistryChromium(): Promise<RegistryBrowser> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-chromium-'));
  const removeDir = () => rm(dir, { recursive: true, force: true });
  try {
    const executablePath = await withTmpdir(dir, () => sparticuzChromium.executablePath());
    const browser = await chromium.launch({ executablePath, headless: true, args: launchArgs() });
    return {
      browser,
      close: async () => {
        try {
          await browser.close();
        } finally {
          await removeDir();
        }
      },
    };
  } catch (err) {
    await removeDir();
    throw err;
  }
}

/**
 * The package's own flags, less `--single-process` (which Lambda needs, and with which closing one browser context
 * ends the whole browser), plus `--no-sandbox`: the tests run as root in CI, where Chromium's sandbox refuses to start.
 */
function launchArgs(): string[] {
  return [...sparticuzChromium.args.filter((arg) => arg !== '--single-process'), '--no-sandbox'];
}

/** Runs `fn` with `os.tmpdir()` answering `dir`, then puts TMPDIR back as it was. */
async function withTmpdir<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}
