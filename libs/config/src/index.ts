// The environment, read in one place (issue 9): every VSVA_* variable and REDIS_URL, their schema,
// defaults and documentation. A leaf: it imports no other lib, so that every lib may use it.
export { VARIABLES, VARIABLE_NAMES, GROUPS, LOCAL_REDIS_URL, LOG_FORMATS, LOG_LEVELS, REDIS_FSYNC } from './variables.js';
export type { Variable, VariableName, Group, LogFormat, LogLevel, RedisFsync } from './variables.js';
export { loadConfig, ConfigError, DEFAULTS, LIMIT_ENV, redisUrlsIn } from './load.js';
export type { Config, ScenarioLimits } from './load.js';
export { configTable } from './table.js';
export { isClusterUrl, parseClusterUrl, type ClusterTarget } from './redis-url.js';
