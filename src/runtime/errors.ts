/** Every error adaptc throws to an embedding app: a clear message, never a crash from inside. */
export class AdaptError extends Error {
  override name = 'AdaptError';
}

/** An API was called with an argument of the wrong kind (null, a string for bytes, …). */
export class ArgumentError extends AdaptError {
  override name = 'ArgumentError';
}

/** Errors the runtime reports to its caller: each is a clear message, never a crash. */
export class AdaptRuntimeError extends AdaptError {
  override name = 'AdaptRuntimeError';
}

/** Inputs passed to `run` do not fit the program. */
export class InputError extends AdaptRuntimeError {
  override name = 'InputError';
}

/** Weights are missing, mis-shaped or of the wrong type; lists every problem at once. */
export class WeightError extends AdaptRuntimeError {
  override name = 'WeightError';
  constructor(readonly problems: readonly string[]) {
    super(
      problems.length === 1
        ? problems[0]!
        : `${problems.length} weight problems:\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
  }
}

/** The program is not a valid adaptc program (corrupt, or from another version). */
export class ProgramError extends AdaptRuntimeError {
  override name = 'ProgramError';
}

/** A graph, input or weight set would need more memory than the backend allows. */
export class ResourceError extends AdaptRuntimeError {
  override name = 'ResourceError';
}
