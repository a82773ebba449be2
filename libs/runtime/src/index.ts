// The shell every engine runs around the deciders: one input in, the log's entries and the commands out.
export * from './process-input.js';
export * from './state-hash.js';
export * from './report.js';
export * from './component-host.js';
export * from './rebuild.js';
export * from './outbox.js';
