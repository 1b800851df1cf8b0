import { AdaptError } from '../errors.js';
import { isRecord } from '../guards.js';

/** A shard index that is not one: names the file and the key. */
export class ShardIndexError extends AdaptError {
  override name = 'ShardIndexError';
  constructor(
    readonly file: string,
    readonly key: string,
    readonly why: string,
  ) {
    super(`${file}: ${key}: ${why}`);
  }
}

/**
 * `model.safetensors.index.json` read strictly: `{ metadata?, weight_map }`, each tensor mapped
 * to the file name of a shard beside the index. Returns shard → its tensors, in the index's order.
 */
export function readShardIndex(value: unknown, file: string): Map<string, string[]> {
  const fail = (key: string, why: string): never => {
    throw new ShardIndexError(file, key, why);
  };
  if (!isRecord(value)) return fail('the file', 'must be a JSON object');
  for (const key of Object.keys(value)) {
    if (key !== 'metadata' && key !== 'weight_map')
      fail(key, "is not a key of a shard index ('metadata', 'weight_map')");
  }
  if (value.metadata !== undefined && !isRecord(value.metadata))
    fail('metadata', 'must be an object');
  const map = value.weight_map;
  if (!isRecord(map)) return fail('weight_map', 'must be an object of tensor name → shard file');
  const byShard = new Map<string, string[]>();
  for (const [tensor, shard] of Object.entries(map)) {
    const key = `weight_map[${JSON.stringify(tensor)}]`;
    if (typeof shard !== 'string' || shard === '')
      return fail(key, 'must be the file name of a shard');
    // Shards sit beside the index: a path could reach outside the checkpoint.
    if (/[/\\]/.test(shard) || shard === '.' || shard === '..')
      fail(key, `'${shard}' is not a file name; shards sit beside the index`);
    byShard.set(shard, [...(byShard.get(shard) ?? []), tensor]);
  }
  if (byShard.size === 0) fail('weight_map', 'lists no tensors');
  return byShard;
}
