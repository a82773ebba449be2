export * from './schema.js';
export * from './load.js';
export * from './limits.js';
export * from './verdicts.js';
export * from './setup-rules.js';
export * from './write.js';
