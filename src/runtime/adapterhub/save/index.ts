import type { Model, PredictionHeadSpec } from '../../../compiler/model.js';
import type { Program } from '../../program.js';
import { saveSafetensors } from '../../safetensors.js';
import { SAVED_WEIGHT_FILES } from '../saved-tensors.js';
import { adapterConfig } from './adapter-config.js';
import { SaveError } from './error.js';
import { fusionConfig } from './fusion-config.js';
import { headConfig } from './head-config.js';
import { hubModelInfo, type HubModelInfo } from './model-info.js';
import { savedEntries, savedTensorNames } from './tensors.js';
import { savedConfigJson } from './wrapper.js';

export { SaveError } from './error.js';
export { pythonFloatRepr, pythonJsonDump } from './python-json.js';

/** One file of an AdapterHub directory. */
export interface SavedFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export type SaveTarget = { readonly adapter: string } | { readonly fusion: string };

const encoder = new TextEncoder();

/**
 * The files the Python `adapters` library (1.x) writes for a trained adapter or fusion, with the
 * same names, JSON and tensor names (`adapters/src/adapters/loading.py`: `AdapterLoader.save`,
 * `AdapterFusionLoader.save`, `PredictionHeadLoader.save`), weights as safetensors:
 * - `{adapter}`: `adapter_config.json` and `adapter.safetensors`, and where the adapter has a
 *   head of its name that the program computes (`save_adapter(..., with_head=True)`),
 *   `head_config.json` and `model_head.safetensors`;
 * - `{fusion}`: `adapter_fusion_config.json` and `model_adapter_fusion.safetensors`, named after
 *   its members joined with commas (`save_adapter_fusion`), and its head
 *   (`with_head=True`: the head of the fusion's name, saved under the fusion's saved name); a
 *   head named like its last member, which a graph of the fusion ends in, is written too where
 *   `weights` holds it.
 * `weights` holds the program's weights by name (at least the target's and its head's).
 * Pure: no file is touched, so it runs in a browser too.
 */
export function trainedDirectoryFiles(
  model: Model,
  program: Program,
  target: SaveTarget,
  weights: ReadonlyMap<string, Float32Array>,
): SavedFile[] {
  const info = hubModelInfo(model);
  if ('adapter' in target) {
    const adapter = model.adapters.get(target.adapter);
    if (!adapter) throw new SaveError(`no adapter '${target.adapter}' in ${model.fileName}`);
    const what = `adapter '${adapter.name}'`;
    const marker = `.adapters.${adapter.name}.`;
    const files = [
      configFile('adapter_config.json', adapterConfig(adapter, model), adapter.name, info),
      weightsFile(
        program,
        'adapter',
        savedTensorNames(program, marker, marker, info.prefix),
        weights,
        what,
      ),
    ];
    const head = model.heads.get(adapter.name);
    if (!head || headTensors(program, head).length === 0) return files;
    return [...files, ...headFiles(program, head, adapter.name, info, weights)];
  }
  const fusion = model.fusions.get(target.fusion);
  if (!fusion) throw new SaveError(`no fusion '${target.fusion}' in ${model.fileName}`);
  const savedName = fusion.adapters.join(',');
  const names = savedTensorNames(
    program,
    `.adapter_fusion_layer.${fusion.name}.`,
    `.adapter_fusion_layer.${savedName}.`,
    info.prefix,
  );
  const files = [
    configFile('adapter_fusion_config.json', fusionConfig(fusion), savedName, info),
    weightsFile(program, 'fusion', names, weights, `fusion '${fusion.name}'`),
  ];
  const own = model.heads.get(fusion.name);
  const last = model.heads.get(fusion.adapters[fusion.adapters.length - 1]!);
  const lastTrained = last !== undefined && weights.has(headTensors(program, last)[0] ?? '');
  const head = own && headTensors(program, own).length > 0 ? own : lastTrained ? last : undefined;
  return head ? [...files, ...headFiles(program, head, savedName, info, weights)] : files;
}

function configFile(
  name: string,
  config: ReturnType<typeof adapterConfig>,
  savedName: string,
  info: HubModelInfo,
): SavedFile {
  return { name, bytes: encoder.encode(savedConfigJson(config, savedName, info)) };
}

function weightsFile(
  program: Program,
  kind: 'adapter' | 'head' | 'fusion',
  names: ReturnType<typeof savedTensorNames>,
  weights: ReadonlyMap<string, Float32Array>,
  what: string,
): SavedFile {
  if (names.length === 0)
    throw new SaveError(
      `${what} has no weights in graph '${program.graph}': no graph of it was compiled`,
    );
  return {
    name: SAVED_WEIGHT_FILES[kind].safetensors,
    bytes: saveSafetensors(savedEntries(program, names, weights, what)),
  };
}

function headTensors(program: Program, head: PredictionHeadSpec): string[] {
  return program.weights.filter((w) => w.name.startsWith(`heads.${head.name}.`)).map((w) => w.name);
}

/** `PredictionHeadLoader.save`: the head's tensors under `heads.SAVED.…`, with no model prefix. */
function headFiles(
  program: Program,
  head: PredictionHeadSpec,
  savedName: string,
  info: HubModelInfo,
  weights: ReadonlyMap<string, Float32Array>,
): SavedFile[] {
  const names = headTensors(program, head).map((weight) => ({
    weight,
    saved: `heads.${savedName}.${weight.slice(`heads.${head.name}.`.length)}`,
  }));
  return [
    configFile('head_config.json', headConfig(head), savedName, info),
    weightsFile(program, 'head', names, weights, `head '${head.name}'`),
  ];
}
