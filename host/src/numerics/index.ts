export * from './f32.js';
export * from './f16.js';
export * from './functions.js';
export * from './reduce.js';
export * from './quant.js';
export * from './rmsmax.js';
