import type { Fault } from './fault.js';
import { seconds, sleep } from './fault.js';

/** kill -9 of a consumer, restarted under the same name after `holdMs`: it drains its own pending entries first. */
const consumerKill: Fault = {
  kind: 'consumer-kill',
  resources: ['consumers'],
  async run({ pipeline: { fleet } }, fault) {
    const slot = fleet.pick(fault.pick);
    if (!slot) return { skipped: 'no consumer running' };
    const name = slot.app.label;
    await slot.app.stop('SIGKILL');
    await sleep(fault.holdMs);
    fleet.restart(slot);
    return `kill -9 ${name}, down ${seconds(fault.holdMs)}, restarted as ${name}`;
  },
};

/** kill -9 of a consumer, restarted under a new name: its pending entries wait for another consumer's idle claim. */
const consumerKillRename: Fault = {
  kind: 'consumer-kill-rename',
  resources: ['consumers'],
  async run({ pipeline: { fleet } }, fault) {
    const slot = fleet.pick(fault.pick);
    if (!slot) return { skipped: 'no consumer running' };
    const name = slot.app.label;
    await slot.app.stop('SIGKILL');
    await sleep(fault.holdMs);
    const renamed = fleet.rename(slot);
    return `kill -9 ${name}, down ${seconds(fault.holdMs)}, restarted as ${renamed ?? '(scaled away meanwhile)'}`;
  },
};

/** SIGTERM of a consumer: it must finish its batches and exit 0 within its deadline (the app reports it otherwise). */
const consumerSigterm: Fault = {
  kind: 'consumer-sigterm',
  resources: ['consumers'],
  async run({ pipeline: { fleet } }, fault) {
    const slot = fleet.pick(fault.pick);
    if (!slot) return { skipped: 'no consumer running' };
    const name = slot.app.label;
    const started = Date.now();
    const code = await slot.app.stop('SIGTERM');
    const tookMs = Date.now() - started;
    await sleep(fault.holdMs);
    fleet.restart(slot);
    return `SIGTERM ${name}: exit ${code ?? 'by signal'} after ${seconds(tookMs)}, restarted after ${seconds(fault.holdMs)}`;
  },
};

/** Two or three replicas for `holdMs`, then the extra ones scaled away with SIGTERM. */
const consumerReplicas: Fault = {
  kind: 'consumer-replicas',
  resources: ['replicas'],
  async run({ pipeline: { fleet } }, fault) {
    const target = fault.replicas ?? 2;
    const added = [];
    while (fleet.active().length < target) added.push(fleet.add());
    const names = added.map((slot) => slot.app.label);
    if (names.length === 0) return { skipped: `already ${fleet.active().length} replicas` };
    await sleep(fault.holdMs);
    await Promise.all(added.map((slot) => fleet.retire(slot)));
    return `${target} replicas (added ${names.join(', ')}) for ${seconds(fault.holdMs)}, then SIGTERM to the added ones`;
  },
};

/** kill -9 of the dead-letter worker: its active job is stalled in BullMQ and picked up again after the restart. */
const deadLetterWorkerKill: Fault = {
  kind: 'dead-letter-worker-kill',
  resources: ['dead-letter-worker'],
  async run({ pipeline: { deadLetterWorker } }, fault) {
    await deadLetterWorker.stop('SIGKILL');
    await sleep(fault.holdMs);
    deadLetterWorker.start();
    return `kill -9 dead-letter-worker, down ${seconds(fault.holdMs)}, restarted`;
  },
};

/** The consumer and dead-letter worker faults. */
export const CONSUMER_FAULTS: readonly Fault[] = [
  consumerKill,
  consumerKillRename,
  consumerSigterm,
  consumerReplicas,
  deadLetterWorkerKill,
];
