import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bottleneck, type FixtureShape } from './shape.js';
import { writeSeededTensors, type TensorPlan } from './tensors.js';

/** The AdapterHub fixture whose adapter_config.json and head_config.json the copies start from. */
export const ADAPTERHUB_FIXTURE = 'test/fixtures/adapterhub/seq-bn-head';

const MODEL_NAME = 'bert-base-2-layers';
const WEIGHT = { std: 0.01 };

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

interface SavedConfig {
  readonly config: Record<string, unknown>;
  readonly [key: string]: unknown;
}

function readFixtureConfig(root: string, file: string): SavedConfig {
  return JSON.parse(readFileSync(join(root, ADAPTERHUB_FIXTURE, file), 'utf8')) as SavedConfig;
}

/** The fixture's seq_bn config, saved under `name` for this shape. */
function adapterConfig(root: string, name: string, shape: FixtureShape): SavedConfig {
  const saved = readFixtureConfig(root, 'sentiment/adapter_config.json');
  return {
    ...saved,
    config: { ...saved.config, reduction_factor: shape.reductionFactor },
    hidden_size: shape.hidden,
    model_name: MODEL_NAME,
    name,
  };
}

/** The fixture's classification head (2 layers, tanh), saved under `name` with this shape's labels. */
function headConfig(root: string, name: string, shape: FixtureShape): SavedConfig {
  const saved = readFixtureConfig(root, 'sentiment-head/head_config.json');
  const label2id = Object.fromEntries(shape.labels.map((label, i) => [label, i]));
  return {
    ...saved,
    config: { ...saved.config, label2id, layers: 2, num_labels: shape.labels.length },
    hidden_size: shape.hidden,
    model_name: MODEL_NAME,
    name,
  };
}

/** A seq_bn adapter's tensors as BertAdapterModel saves them: one at each layer's output. */
export function adapterTensors(name: string, shape: FixtureShape): TensorPlan {
  const r = bottleneck(shape);
  return Array.from({ length: shape.layers }, (_, l): TensorPlan => {
    const at = `bert.encoder.layer.${l}.output.adapters.${name}`;
    return [
      [`${at}.adapter_down.0.weight`, [r, shape.hidden], WEIGHT],
      [`${at}.adapter_down.0.bias`, [r], WEIGHT],
      [`${at}.adapter_up.weight`, [shape.hidden, r], WEIGHT],
      [`${at}.adapter_up.bias`, [shape.hidden], WEIGHT],
    ];
  }).flat();
}

/** A two-layer classification head: Dropout, Linear (1), tanh, Dropout, Linear (4). */
export function headTensors(name: string, shape: FixtureShape): TensorPlan {
  const { hidden } = shape;
  const labels = shape.labels.length;
  return [
    [`heads.${name}.1.weight`, [hidden, hidden], WEIGHT],
    [`heads.${name}.1.bias`, [hidden], WEIGHT],
    [`heads.${name}.4.weight`, [labels, hidden], WEIGHT],
    [`heads.${name}.4.bias`, [labels], WEIGHT],
  ];
}

/** A saved directory as the library writes one: its config JSON and its seeded tensors. */
function writeSaved(
  dir: string,
  files: { config: string; tensors: string },
  config: unknown,
  plan: TensorPlan,
  seed: number,
) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, files.config), json(config));
  writeSeededTensors(join(dir, files.tensors), plan, seed);
}

/** `save_adapter`'s directory: adapter_config.json and adapter.safetensors. */
export function writeAdapter(
  root: string,
  dir: string,
  name: string,
  shape: FixtureShape,
  seed: number,
) {
  const files = { config: 'adapter_config.json', tensors: 'adapter.safetensors' };
  writeSaved(dir, files, adapterConfig(root, name, shape), adapterTensors(name, shape), seed);
}

/** `save_head`'s directory: head_config.json and model_head.safetensors. */
export function writeHead(
  root: string,
  dir: string,
  name: string,
  shape: FixtureShape,
  seed: number,
) {
  const files = { config: 'head_config.json', tensors: 'model_head.safetensors' };
  writeSaved(dir, files, headConfig(root, name, shape), headTensors(name, shape), seed);
}
