import type { FaultKind } from '../fault-kinds.js';
import { CLUSTER_FAULTS } from './cluster-faults.js';
import { CONSUMER_FAULTS } from './consumer-faults.js';
import type { Fault } from './fault.js';
import { POSTGRES_FAULTS } from './postgres-faults.js';
import { REDIS_FAULTS } from './redis-faults.js';

export type { Fault, FaultContext } from './fault.js';

/** Every fault, by kind. */
export const FAULTS: ReadonlyMap<FaultKind, Fault> = new Map(
  [...CONSUMER_FAULTS, ...REDIS_FAULTS, ...POSTGRES_FAULTS, ...CLUSTER_FAULTS].map((fault) => [fault.kind, fault]),
);
