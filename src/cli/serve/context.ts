import type { Model, ReadFile } from '../../compiler/index.js';
import type { Runtime } from '../../runtime/runtime.js';
import type { TensorMap } from '../../runtime/safetensors.js';
import type { TextTokenizer } from '../../runtime/text/tokenizer.js';
import type { CliIO } from '../io.js';
import type { ServeOptions } from './options.js';

/** What loading and adding adapters need of the spec, its checkpoint and the runtime. */
export interface ServeContext {
  readonly io: CliIO;
  readonly file: string;
  readonly source: string;
  readonly readFile: ReadFile;
  readonly model: Model;
  readonly checkpointTensors: TensorMap;
  readonly checkpointFiles: readonly string[];
  readonly tokenizer: TextTokenizer;
  readonly runtime: Runtime;
  /** The --weights files. */
  readonly given: readonly { readonly tensors: TensorMap; readonly file: string }[];
  readonly options: ServeOptions;
}
