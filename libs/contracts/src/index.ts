export * from './errno.js';
export * from './components.js';
export * from './envelope.js';
export * from './policy.js';
export * from './uapi.js';
export * from './run-spec.js';
export * from './messages/index.js';
