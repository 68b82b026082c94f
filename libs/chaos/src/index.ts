export { runChaos, type ChaosOptions, type ChaosResult } from './run-chaos.js';
export { formatSummary, replayCommand } from './summary.js';
export { planSchedule, type PlannedFault } from './schedule.js';
export { checkLedger, type CheckCounts, type CheckResult, type Finding, type StoredRow } from './checker.js';
export { FAULT_KINDS, type FaultKind } from './fault-kinds.js';
export { Ledger, type Attempt, type EventRecord } from './ledger.js';
