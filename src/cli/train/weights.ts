import type { Model } from '../../compiler/index.js';
import type { Program } from '../../runtime/program.js';
import type { TensorMap } from '../../runtime/safetensors.js';
import { bindWeights, initTensor } from '../../runtime/weights.js';
import { initialTrainedWeights } from '../../runtime/training/init/index.js';
import type { TrainTarget } from '../../runtime/training/trainable.js';
import type { Checkpoint } from '../checkpoint-files.js';
import { CliError } from '../io.js';
import { userErrors } from '../runtime-errors.js';
import { readSavedWeights } from '../saved-weights.js';
import { readWeightFiles } from '../weights-files.js';

export interface TrainingWeights {
  /** Every weight of the program, bound. */
  readonly tensors: ReadonlyMap<string, Float32Array>;
  /** The files read, for the summary. */
  readonly files: readonly string[];
  /** Trained weights no file holds, initialized (a new adapter, fusion or head). */
  readonly initialized: readonly string[];
}

/**
 * The weights training starts from: the checkpoint's, those of the AdapterHub directories the
 * graph reads (an adapter from a directory is fine-tuned), then the --weights files; a trained
 * weight none of them holds starts as its config says (`initialTrainedWeights`: AdapterHub
 * adapters by their `init_weights`, heads as `_init_weights`, the article's adapters as
 * `adapt run` seeds them). A frozen weight that none holds is an error: it would not be trained.
 */
export async function trainingWeights(
  cwd: string,
  specPath: string,
  lowered: { readonly model: Model; readonly program: Program },
  checkpoint: Checkpoint,
  extra: { readonly weights: readonly string[]; readonly graph: string; readonly seed: number },
  trained: readonly string[],
  target: TrainTarget,
): Promise<TrainingWeights> {
  const { model, program } = lowered;
  const saved = readSavedWeights(cwd, specPath, model, extra.graph);
  const given = extra.weights.length > 0 ? readWeightFiles(cwd, extra.weights) : [];
  const maps: TensorMap[] = [checkpoint.weights.tensors, ...saved.tensors, ...given];
  const files = [...checkpoint.weights.files, ...saved.files, ...extra.weights];
  const trainedSet = new Set(trained);
  const missing = program.weights.filter((w) => !maps.some((map) => holds(map, w.name)));
  const frozen = missing.filter((w) => !trainedSet.has(w.name));
  if (frozen.length > 0) {
    const shown = frozen
      .slice(0, 5)
      .map((w) => `'${w.name}'`)
      .join(', ');
    throw new CliError(
      `${specPath}: error: ${frozen.length} frozen weight${frozen.length > 1 ? 's are' : ' is'} in no file: ${shown}${frozen.length > 5 ? ', …' : ''}; give the frozen adapters' weights (adapter NAME from "DIR", or --weights FILE)`,
    );
  }
  const fresh =
    missing.length > 0 ? initialTrainedWeights(model, program, target, extra.seed) : undefined;
  const init: TensorMap = new Map();
  for (const spec of missing) {
    const data = fresh?.get(spec.name) ?? initTensor(spec, extra.seed);
    init.set(spec.name, { dtype: 'F32', shape: spec.shape, data });
  }
  const bound = await userErrors(() => bindWeights(program, [...maps, init]), {
    weights: files,
    spec: specPath,
  });
  return { tensors: bound.tensors, files, initialized: missing.map((w) => w.name) };
}

/**
 * Whether a file holds the program weight `name`: as it is, or under one leading module such as
 * `bert.` (how bindWeights matches a file's names).
 */
function holds(map: TensorMap, name: string): boolean {
  if (map.has(name)) return true;
  for (const key of map.keys()) {
    if (key.length <= name.length + 1 || !key.endsWith(`.${name}`)) continue;
    if (!key.slice(0, key.length - name.length - 1).includes('.')) return true;
  }
  return false;
}
