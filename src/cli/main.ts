import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { BenchOptions } from './commands/bench.js';
import type { CompileOptions } from './commands/compile-emit.js';
import type { ExportOptions } from './commands/export.js';
import type { GraphOptions } from './commands/graph.js';
import type { InitOptions } from './commands/init.js';
import type { RunOptions } from './commands/run.js';
import type { ServeOptions } from './serve/options.js';
import { SERVE_DEFAULTS, SPARE_SLOTS } from './serve/options.js';
import type { TrainOptions } from './train/options.js';
import { numberFrom, probabilityBelowOne } from './train/numbers.js';
import type { WeightsOptions } from './commands/weights.js';
import { CliError, EXIT, processIO, type CliIO } from './io.js';
import {
  integerIn,
  LAYERS_RANGE,
  PORT_RANGE,
  RUNS_RANGE,
  SEED_RANGE,
  SIZE_RANGE,
  TIMEOUT_RANGE,
  TOP_K_RANGE,
  WARMUP_RANGE,
} from './numbers.js';
import {
  BATCH_RANGE,
  BODY_RANGE,
  QUEUE_RANGE,
  SERVE_PORT_RANGE,
  SLOTS_RANGE,
  WAIT_RANGE,
} from './serve/ranges.js';
import { toCliError } from './runtime-errors.js';
import { packageVersion } from './version.js';

function buildProgram(io: CliIO, exit: { code: number }): Command {
  const program = new Command('adapt')
    .description('adaptc: compile and run adapter graphs (.adapt files) on WebGPU')
    .version(packageVersion())
    .exitOverride()
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      outputError: (text, write) => write(text.replace(/^error:/, 'adapt: error:')),
    })
    .showHelpAfterError('(run adapt --help for usage)');

  program
    .command('check')
    .description('parse and check .adapt files; exit 0 when clean, 1 on errors, 2 on usage errors')
    .argument('<file...>', '.adapt files', collectPath)
    .action(async (files: string[]) => {
      const { runCheck } = await import('./commands/check.js');
      exit.code = await runCheck(io, files);
    });

  program
    .command('init')
    .description(
      'write a .adapt spec for a Hugging Face checkpoint and the adapters, heads and fusions the Python adapters library saved',
    )
    .argument(
      '<dir...>',
      'the checkpoint directory and the saved adapter, head and fusion directories',
      collectPath,
    )
    .option('-o, --output <file>', 'write the spec to a file instead of stdout', path)
    .addOption(forceOption())
    .action(async (dirs: string[], options: InitOptions) => {
      const { runInit } = await import('./commands/init.js');
      exit.code = await runInit(io, dirs, options);
    });

  program
    .command('params')
    .description('count parameters per adapter, per layer and in total')
    .argument('<file>', '.adapt file', path)
    .option('--graph <name>', 'graph to count', 'default')
    .addOption(new Option('--json', 'print JSON instead of tables').default(false))
    .action(async (file: string, options: { graph: string; json: boolean }) => {
      const { runParams } = await import('./commands/params.js');
      exit.code = await runParams(io, file, options);
    });

  program
    .command('compile')
    .description(
      'compile a graph and write one stage: the AST, the IR, the op graph as DOT, or the program',
    )
    .argument('<file>', '.adapt file', path)
    .option('--graph <name>', 'graph to compile', 'default')
    .option('--emit <what>', 'what to write: ast, ir, fused, dot, wgsl, plan or program', 'program')
    .option('-o, --output <path>', 'write to a file instead of stdout', path)
    .addOption(forceOption())
    .option('--no-fuse', 'skip the optimizing passes: one kernel per op (the eager baseline)')
    .addOption(
      new Option('--target <profile>', 'kernel profile')
        .choices(['software', 'gpu'])
        .default('software'),
    )
    .action(async (file: string, options: CompileOptions) => {
      const { runCompile } = await import('./commands/compile-emit.js');
      exit.code = await runCompile(io, file, options);
    });

  program
    .command('graph')
    .description('draw a graph layer by layer (adapters, fusions, data flow) as SVG or DOT')
    .argument('<file>', '.adapt file', path)
    .option('--graph <name>', 'graph to draw', 'default')
    .requiredOption('-o, --output <path>', 'output file: .svg or .dot', path)
    .addOption(forceOption())
    .action(async (file: string, options: GraphOptions) => {
      const { runGraph } = await import('./commands/graph.js');
      exit.code = await runGraph(io, file, options);
    });

  program
    .command('run')
    .description('compile a graph and run it once on random or given inputs')
    .argument('<file>', '.adapt file', path)
    .option('--graph <name>', 'graph to run', 'default')
    .option(
      '--weights <file>',
      "safetensors weights (repeatable); default: seeded init; for model NAME from DIR, the checkpoint's weights plus these",
      collectPath,
      [],
    )
    .option(
      '--input <file>',
      'safetensors with hidden_states [B,T,d] (or input_ids [B,T] for a checkpoint), optional attention_mask, token_type_ids, adapter_index',
      path,
    )
    .option(
      '--text <text>',
      'a text to classify, for a model read from a checkpoint (repeatable)',
      collectText,
      [],
    )
    .option('--text-file <file>', 'texts to classify, one a line', path)
    .option('--top-k <k>', 'labels (or next tokens) to print per text', integerIn(TOP_K_RANGE), 1)
    .option(
      '--output <file>',
      'write the outputs as safetensors (with a checkpoint: input_ids, attention_mask, last_hidden_state, logits)',
      path,
    )
    .addOption(forceOption())
    .addOption(backendOption(RUN_BACKENDS))
    .addOption(targetOption())
    .option('--batch <n>', 'batch size of the random input', integerIn(SIZE_RANGE), 1)
    .option('--seq <n>', 'sequence length of the random input', integerIn(SIZE_RANGE), 16)
    .option('--seed <n>', 'seed of random weights and input', integerIn(SEED_RANGE), 0)
    .option(
      '--allow-nonfinite',
      'accept NaN and infinite values in the input file (refused by default)',
      false,
    )
    .addOption(timeoutOption())
    .option('--no-fuse', 'run one kernel per op (the eager baseline)')
    .option('--json', 'print a JSON summary', false)
    .option(
      '--check',
      'also run the CPU reference and print the relative error (exit 1 above 1e-4)',
      false,
    )
    .action(async (file: string, options: RunOptions) => {
      const { runRun } = await import('./commands/run.js');
      exit.code = await runRun(io, file, options);
    });

  const trainCommand = program
    .command('train')
    .description(
      'train one adapter (with its head) or one fusion on labelled text, the base model frozen; writes an AdapterHub directory',
    )
    .argument('<file>', '.adapt file', path)
    .option('--adapter <name>', 'the adapter to train, with its head (stage 1)')
    .option('--fusion <name>', 'the fusion to train, with its head, its adapters frozen (stage 2)')
    .requiredOption(
      '--data <file>',
      'JSONL rows {"text", "label"} (or {"tokens", "labels"} for a tagging head)',
      path,
    )
    .requiredOption('--out <dir>', 'the directory to write (new, or empty)', path)
    .option('--steps <n>', 'optimizer steps (default: one epoch)', integerIn(SIZE_RANGE))
    .option('--epochs <n>', 'epochs of ceil(rows / batch) steps each', integerIn(SIZE_RANGE))
    .option('--batch <n>', 'rows per step', integerIn(SIZE_RANGE), 8)
    .option('--lr <rate>', 'peak learning rate', numberFrom(0, true), 1e-4)
    .option('--weight-decay <wd>', "AdamW's decoupled weight decay", numberFrom(0), 0)
    .option('--warmup-steps <n>', 'steps of linear warm-up from 0', integerIn(WARMUP_RANGE), 0)
    .addOption(
      new Option('--schedule <kind>', 'the learning rate after warm-up: constant, or linear to 0')
        .choices(['constant', 'linear'])
        .default('constant'),
    )
    .option('--seed <n>', 'seed of the data order and of new weights', integerIn(SEED_RANGE), 0)
    .option('--no-shuffle', 'take the rows in file order, wrapping around')
    .option('--eval <file>', 'JSONL rows to report loss and accuracy on after each epoch', path)
    .addOption(
      new Option('--backend <name>', 'where to train: WebGPU if an adapter exists, else the CPU')
        .choices(['auto', 'webgpu', 'cpu'])
        .default('auto'),
    )
    .option(
      '--checkpoint-every <n>',
      'write OUT/checkpoint-STEP every n steps',
      integerIn(SIZE_RANGE),
    )
    .option('--resume <dir>', 'continue from a checkpoint directory, exactly', path)
    .option(
      '--dropout <p>',
      "dropout probability in [0, 1) at every dropout of the model, as PyTorch's train mode",
      probabilityBelowOne,
    )
    .option('--graph <name>', 'graph to train', 'default')
    .option(
      '--log-every <n>',
      'steps between log lines when stderr is not a terminal',
      integerIn(SIZE_RANGE),
      10,
    )
    .option(
      '--weights <file>',
      'safetensors weights of frozen adapters declared inline (repeatable)',
      collectPath,
      [],
    );
  trainCommand.action(async (file: string, options: Omit<TrainOptions, 'given'>) => {
    const given = new Set(
      trainCommand.options
        .map((option) => option.attributeName())
        .filter((name) => trainCommand.getOptionValueSource(name) === 'cli'),
    );
    const { runTrain } = await import('./commands/train.js');
    exit.code = await runTrain(io, file, { ...options, given });
  });

  program
    .command('weights')
    .description('list the tensors a graph reads, or write seeded initial weights')
    .argument('<file>', '.adapt file', path)
    .option('--graph <name>', 'graph whose weights to list or write', 'default')
    .option('--list', 'list tensor names, shapes and initializers', false)
    .option('--init', 'write seeded initial weights (with -o)', false)
    .option('-o, --output <file>', 'output .safetensors file', path)
    .addOption(forceOption())
    .option('--seed <n>', 'seed of the initial weights', integerIn(SEED_RANGE), 0)
    .action(async (file: string, options: WeightsOptions) => {
      const { runWeights } = await import('./commands/weights.js');
      exit.code = await runWeights(io, file, options);
    });

  program
    .command('export')
    .description('write a graph as an ONNX model (opset 17) with its weights, for ONNX Runtime')
    .argument('<file>', '.adapt file', path)
    .option('--graph <name>', 'graph to export', 'default')
    .requiredOption('-o, --onnx <path>', 'output .onnx file', path)
    .addOption(forceOption())
    .option(
      '--weights <file>',
      "safetensors weights (repeatable); default: seeded init; for model NAME from DIR, the checkpoint's weights plus these",
      collectPath,
      [],
    )
    .option('--seed <n>', 'seed of the initial weights when no --weights', integerIn(SEED_RANGE), 0)
    .option(
      '--optimize',
      "export the graph after adaptc's graph-level rewrites (the fusion algebra), as --backend onnx runs it",
      false,
    )
    .action(async (file: string, options: ExportOptions) => {
      const { runExport } = await import('./commands/export.js');
      exit.code = await runExport(io, file, options);
    });

  program
    .command('bench')
    .description('time a graph fused, unfused (--no-fuse) and as the bare base model')
    .argument('<file>', '.adapt file', path)
    .option('--graph <name>', 'graph to measure', 'default')
    .addOption(backendOption(BENCH_BACKENDS))
    .addOption(targetOption())
    .option('--batch <n>', 'batch size', integerIn(SIZE_RANGE), 1)
    .option('--seq <n>', 'sequence length', integerIn(SIZE_RANGE), 128)
    .option(
      '--layers <n>',
      "override the model's layer count (overhead is per layer)",
      integerIn(LAYERS_RANGE),
    )
    .option('--iters <n>', 'timed runs of each variant', integerIn(RUNS_RANGE), 10)
    .option('--warmup <n>', 'untimed runs first', integerIn(WARMUP_RANGE), 2)
    .option('--json <file>', 'write the results as JSON', path)
    .addOption(forceOption())
    .addOption(timeoutOption())
    .option('--profile', 'also list the time per kernel group (WebGPU only)', false)
    .action(async (file: string, options: BenchOptions) => {
      const { runBench } = await import('./commands/bench.js');
      exit.code = await runBench(io, file, options);
    });

  program
    .command('serve')
    .description(
      'serve a spec over HTTP: POST /v1/classify batches requests for many adapters into one forward pass',
    )
    .argument('<file>', '.adapt file (its model read from a checkpoint with tokenizer.json)', path)
    .option(
      '--port <n>',
      'port to listen on (0: a free one)',
      integerIn(SERVE_PORT_RANGE),
      SERVE_DEFAULTS.port,
    )
    .option('--host <host>', 'address to listen on', SERVE_DEFAULTS.host)
    .option(
      '--max-batch <n>',
      'most sequences in one forward pass',
      integerIn(BATCH_RANGE),
      SERVE_DEFAULTS.maxBatch,
    )
    .option(
      '--max-wait-ms <ms>',
      'how long a batch waits for more requests to join it',
      integerIn(WAIT_RANGE),
      SERVE_DEFAULTS.maxWaitMs,
    )
    .option(
      '--max-queue <n>',
      'most sequences waiting; past it requests get 429',
      integerIn(QUEUE_RANGE),
      SERVE_DEFAULTS.maxQueue,
    )
    .option(
      '--slots <n>',
      `adapters each slot program holds (default: the spec's adapters of that shape and ${SPARE_SLOTS} more)`,
      integerIn(SLOTS_RANGE),
    )
    .addOption(
      new Option(
        '--batching <how>',
        'mixed: adapters share a batch; per-adapter: each batch one adapter',
      )
        .choices(['mixed', 'per-adapter'])
        .default('mixed'),
    )
    .addOption(backendOption(SERVE_BACKENDS))
    .addOption(targetOption())
    .option(
      '--weights <file>',
      'safetensors or PyTorch weights of inline adapters (repeatable)',
      collectPath,
      [],
    )
    .addOption(timeoutOption())
    .option(
      '--max-body-bytes <n>',
      'largest request body',
      integerIn(BODY_RANGE),
      SERVE_DEFAULTS.maxBodyBytes,
    )
    .action(async (file: string, options: ServeOptions) => {
      const { runServe } = await import('./commands/serve.js');
      exit.code = await runServe(io, file, options);
    });

  program
    .command('playground')
    .description('serve the browser playground (editor, diagnostics, graph, WGSL, runs on WebGPU)')
    .option('--port <n>', 'port on localhost', integerIn(PORT_RANGE), 5173)
    .action(async (options: { port: number }) => {
      const { runPlayground } = await import('./commands/playground.js');
      exit.code = await runPlayground(io, options);
    });

  for (const command of program.commands) refuseRepeats(command);
  return program;
}

const RUN_BACKENDS = ['auto', 'webgpu', 'cpu', 'onnx'];
const BENCH_BACKENDS = ['auto', 'webgpu', 'cpu', 'onnx'];
const SERVE_BACKENDS = ['auto', 'webgpu', 'cpu', 'onnx'];

function backendOption(choices: readonly string[]): Option {
  const onnx = choices.includes('onnx')
    ? '; onnx: ONNX Runtime on the CPU, which auto picks over a software rasterizer'
    : '';
  return new Option(
    '--backend <name>',
    `where to run: WebGPU if an adapter exists, else the CPU reference${onnx}`,
  )
    .choices(choices)
    .default('auto');
}

function targetOption(): Option {
  return new Option('--target <profile>', 'kernel profile (default: from the adapter)').choices([
    'software',
    'gpu',
  ]);
}

function forceOption(): Option {
  return new Option('--force', 'replace the output file if it exists (never an input)').default(
    false,
  );
}

function timeoutOption(): Option {
  return new Option(
    '--timeout <seconds>',
    'WebGPU: fail a run that takes longer than this (default: no limit)',
  ).argParser(integerIn(TIMEOUT_RANGE));
}

/**
 * A file name given as an argument or option: an empty one (`--output ''`, often an unset shell
 * variable) is a usage error, not the current folder, nor an option left out.
 */
function path(value: string): string {
  if (value === '') throw new InvalidArgumentError('expected a file name, found an empty string');
  return value;
}

/** A repeatable file argument or option (`--weights`, `check <file...>`). */
function collectPath(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), path(value)];
}

/** Each `--text` is one text; an empty one is refused, since it gives no tokens to classify. */
function collectText(value: string, previous: string[] | undefined): string[] {
  if (value.trim() === '') throw new InvalidArgumentError('expected a text, found an empty one');
  return [...(previous ?? []), value];
}

/** Options that may be given more than once: each occurrence adds a value. */
const REPEATABLE = new Set(['weights', 'text']);

/**
 * Makes a second occurrence of any other option a usage error: commander would keep the last
 * value silently, so `--seq 4 ... --seq 8` ran with a length the user may not have meant.
 */
function refuseRepeats(command: Command): void {
  for (const option of command.options) {
    const name = option.name();
    if (REPEATABLE.has(name)) continue;
    const shown = [option.short, option.long].filter(Boolean).join('/');
    let seen = false;
    command.on(`option:${name}`, () => {
      if (seen) {
        throw new CliError(
          `adapt: error: option '${shown}' is given more than once; give it once`,
          EXIT.usage,
        );
      }
      seen = true;
    });
  }
}

/** Runs the CLI; returns the exit code. User errors print one message, never a stack trace. */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const exit = { code: EXIT.ok as number };
  try {
    const program = buildProgram(io, exit);
    await program.parseAsync([...argv], { from: 'user' });
    return exit.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with exit code 0; everything else is a usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const userError = toCliError(error);
    if (userError instanceof CliError) {
      io.stderr(`${userError.message}\n`);
      return userError.exitCode;
    }
    const detail = error instanceof Error ? error.message : String(error);
    io.stderr(`adapt: internal error: ${detail}\n`);
    if (process.env.ADAPT_DEBUG && error instanceof Error) io.stderr(`${error.stack}\n`);
    io.stderr('this is a bug in adaptc; please report it with the input that caused it\n');
    return 70;
  }
}
