import { mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deadLetterJobId, deadLetterJobName, deadLetterJobOptions, type DeadLetterData } from '@sluice/dead-letter';
import { testRedisUrl, uniqueKey, waitFor } from '@sluice/test-support';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchRegistryChromium, type RegistryBrowser } from './support/registry-chromium.js';
import { createMigratedDb, createTestApp, type TestApp, type TestDb } from './support/test-env.js';

const OUTPUT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test-output');
const ADMIN_USER = 'board-admin';
const ADMIN_PASSWORD = 'browser-test-pw-4e1b';
const PAYLOAD_TEXT = 'recognisable-payload-7f3a9c';
const ERROR_TEXT = 'session.end handler rejected the event: recognisable-error-b52e10';

/** A tab of the job card (Error, Data, Logs...), whatever element the board renders it as. */
function jobTab(page: Page, name: string) {
  const exact = new RegExp(`^${name}$`, 'i');
  return page
    .getByRole('tab', { name: exact })
    .or(page.getByRole('button', { name: exact }))
    .or(page.getByText(exact))
    .first();
}

describe('Bull Board in a real browser', () => {
  let testDb: TestDb;
  let redis: Redis;
  let queueName: string;
  let queue: Queue<DeadLetterData>;
  let worker: Worker<DeadLetterData> | undefined;
  let t: TestApp;
  let server: http.Server;
  let chromium: RegistryBrowser | undefined;

  beforeAll(async () => {
    testDb = await createMigratedDb();
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    queueName = uniqueKey('dlq-browser');
    queue = new Queue(queueName, { connection: redis, prefix: 'bull' });
    t = await createTestApp({ db: testDb.db, env: { ADMIN_USER, ADMIN_PASSWORD }, deadLetterQueue: queue });
    server = http.createServer(t.app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await chromium?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await worker?.close();
    await queue?.obliterate({ force: true });
    await queue?.close();
    redis?.disconnect();
    await t?.close();
    await testDb?.close();
  });

  it('shows a failed dead letter with its payload and error to a logged-in admin', async () => {
    // One dead letter, shaped as the stream consumer writes them, failed for good by a worker.
    const stream = uniqueKey('events-browser');
    const entryId = '1763805600000-0';
    const event = {
      event_id: '0193a0c4-7b5e-7d1c-9f00-0000000b0a4d',
      event_type: 'session.end',
      source: 'browser-test',
      session_id: 'sess_browser',
      payload: { note: PAYLOAD_TEXT },
      received_at: '2026-11-22T10:00:00.000Z',
    };
    const now = new Date().toISOString();
    const data: DeadLetterData = {
      fields: { event: JSON.stringify(event) },
      stream,
      entryId,
      group: 'event-processors',
      consumer: 'consumer-1',
      deliveryCount: 1,
      error: { class: 'PermanentError', message: ERROR_TEXT, verdict: 'data', code: 'handler' },
      firstFailedAt: now,
      lastFailedAt: now,
      eventId: event.event_id,
      eventType: event.event_type,
    };
    const job = await queue.add(deadLetterJobName(data), data, {
      ...deadLetterJobOptions(3),
      jobId: deadLetterJobId(stream, entryId),
    });
    worker = new Worker<DeadLetterData>(
      queueName,
      async (failing) => {
        throw new UnrecoverableError(failing.data.error.message);
      },
      { connection: redis.duplicate(), prefix: 'bull' },
    );
    await waitFor(() => job.isFailed(), { what: 'the dead letter to fail' });
    await worker.close();

    // The Chromium that @sparticuz/chromium ships: no system package, no download.
    chromium = await launchRegistryChromium();
    const { browser } = chromium;
    const { port } = server.address() as AddressInfo;
    const base = `http://127.0.0.1:${port}`;

    // Without credentials the browser gets the Basic challenge and no board (the headless shell that
    // @sparticuz/chromium ships shows the 401 page instead of a login prompt).
    const anonymous = await browser.newContext();
    const anonymousPage = await anonymous.newPage();
    const refused = await anonymousPage.goto(`${base}/admin/queues/queue/${queueName}?status=failed`);
    expect(refused?.status()).toBe(401);
    expect(await anonymousPage.locator('body').innerText()).not.toContain(deadLetterJobId(stream, entryId));
    const denied = await anonymous.request.get(`${base}/admin/queues`);
    expect(denied.status()).toBe(401);
    expect(denied.headers()['www-authenticate']).toBe('Basic realm="sluice-admin"');
    await anonymous.close();

    const context = await browser.newContext({
      httpCredentials: { username: ADMIN_USER, password: ADMIN_PASSWORD },
      viewport: { width: 1400, height: 1000 },
    });
    const page = await context.newPage();
    const response = await page.goto(`${base}/admin/queues/queue/${queueName}?status=failed`);
    expect(response?.status()).toBe(200);

    // The failed tab lists the job: its Error tab shows why it failed, its Data tab the raw event with the payload.
    await page.getByText(deadLetterJobId(stream, entryId)).first().waitFor({ timeout: 15_000 });
    mkdirSync(OUTPUT_DIR, { recursive: true });
    await jobTab(page, 'Error').click();
    await page.getByText(ERROR_TEXT).first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: path.join(OUTPUT_DIR, 'bull-board-failed-error.png'), fullPage: true });
    await jobTab(page, 'Data').click();
    await page.getByText(PAYLOAD_TEXT).first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: path.join(OUTPUT_DIR, 'bull-board-failed-data.png'), fullPage: true });
    const text = await page.locator('body').innerText();
    expect(text).toContain(PAYLOAD_TEXT);
    expect(text).toContain(queueName);
    await context.close();
  });
});
