export { handleShutdown, type ShutdownLogger, type ShutdownOptions } from './shutdown.js';
export { closeInOrder, type CloseStep } from './close-in-order.js';
export { startOpsServer, type HealthCheck, type OpsServer, type OpsServerOptions } from './ops-server.js';
