import { AdaptError, InputError, WeightError } from '../runtime/errors.js';
import { PytorchCheckpointError } from '../runtime/pytorch/index.js';
import { SafetensorsError } from '../runtime/safetensors.js';
import { CliError } from './io.js';

/** Where the data of a runtime call came from, to name it in the error. */
export interface ErrorSource {
  /** The weight files given, if any; one file is named as the location of a WeightError. */
  readonly weights?: readonly string[];
  /** The spec the weights are bound for, named in a WeightError. */
  readonly spec?: string;
  /** The input file given, if any: the location of an InputError. */
  readonly input?: string;
}

/**
 * The one-line user error for anything the runtime reports: `FILE: error: …` when a file given
 * on the command line holds the fault, else `adapt: error: …`. Other errors are bugs and stay.
 */
export function toCliError(error: unknown, source: ErrorSource = {}): unknown {
  if (error instanceof CliError) return error;
  if (error instanceof SafetensorsError || error instanceof PytorchCheckpointError) {
    const detail = error.message.startsWith(`${error.file}: `)
      ? error.message.slice(error.file.length + 2)
      : error.message;
    return new CliError(`${error.file}: error: ${detail}`);
  }
  if (!(error instanceof AdaptError)) return error;
  if (error instanceof WeightError && source.weights && source.weights.length > 0) {
    const fit = source.spec ? ` do not fit ${source.spec}` : '';
    return new CliError(
      source.weights.length === 1
        ? `${source.weights[0]}: error: the weights${fit}: ${error.message}`
        : `adapt: error: the weights in ${source.weights.join(', ')}${fit}: ${error.message}`,
    );
  }
  if (error instanceof InputError && source.input) {
    return new CliError(`${source.input}: error: ${error.message}`);
  }
  return new CliError(`adapt: error: ${error.message}`);
}

/** Runs `work`, turning what the runtime reports into user errors (see toCliError). */
export async function userErrors<T>(
  work: () => Promise<T> | T,
  source: ErrorSource = {},
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toCliError(error, source);
  }
}
