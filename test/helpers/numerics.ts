export { relativeError } from '../../src/runtime/compare.js';
