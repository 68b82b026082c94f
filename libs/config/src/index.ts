export { ConfigError } from './config-error.js';
export { parseEnv, type Env } from './parse-env.js';
export {
  checkClusterSettings,
  commonFields,
  defaultConsumerName,
  intField,
  listField,
  urlField,
} from './env-fields.js';
export { exitOnConfigError } from './exit-on-config-error.js';
