export * from './encoding.js';
export * from './tables.js';
export * from './blocked.js';
