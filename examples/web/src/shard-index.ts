/** The shard index is read as the CLI reads it: one reader, in the runtime. */
export { readShardIndex } from '../../../src/runtime/checkpoint/shard-index.js';
