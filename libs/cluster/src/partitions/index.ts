export * from './assignment.js';
export * from './layout.js';
export * from './partition-owner.js';
export * from './replicas.js';
export * from './settled.js';
