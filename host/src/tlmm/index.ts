export * from './encoding.js';
export * from './tables.js';
