// Reaching Redis: bounded connections and probes, a private redis-server, and credentials kept out of output.
export * from './connect.js';
export * from './redact.js';
export * from './private-server.js';
export * from './private-cluster.js';
