// A run's log drawn as a sequence diagram: the model (sequence.ts) and its three drawings.
export * from './sequence.js';
export * from './mermaid.js';
export * from './svg.js';
export * from './html.js';
export * from './draw.js';
