export { adminDatabaseUrl, createTestDatabase, type TestDatabase } from './test-database.js';
export { testRedisUrl, uniqueKey } from './redis-keys.js';
export { waitFor, type WaitForOptions } from './wait-for.js';
export { freePort } from './free-port.js';
export { startPrivateRedis, type PrivateRedis, type PrivateRedisOptions } from './private-redis.js';
export { startPrivatePostgres, type PrivatePostgres } from './private-postgres.js';
export { appEntry, spawnApp, type SpawnedApp } from './spawn-app.js';
export { captureLogs, type CapturedLogs } from './capture-logs.js';
export { startPrivateCluster, type PrivateCluster, type PrivateClusterOptions } from './private-cluster.js';
