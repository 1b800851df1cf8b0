import { Command, CommanderError, Option } from 'commander';
import { runCheck } from './commands/check.js';
import { runParams } from './commands/params.js';
import { CliError, EXIT, processIO, type CliIO } from './io.js';

function buildProgram(io: CliIO, exit: { code: number }): Command {
  const program = new Command('adapt')
    .description('adaptc: compile and run adapter graphs (.adapt files) on WebGPU')
    .version('0.1.0')
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
    .argument('<file...>', '.adapt files')
    .action((files: string[]) => {
      exit.code = runCheck(io, files);
    });

  program
    .command('params')
    .description('count parameters per adapter, per layer and in total')
    .argument('<file>', '.adapt file')
    .option('--graph <name>', 'graph to count', 'default')
    .addOption(new Option('--json', 'print JSON instead of tables').default(false))
    .action((file: string, options: { graph: string; json: boolean }) => {
      exit.code = runParams(io, file, options);
    });

  return program;
}

/** Runs the CLI; returns the exit code. User errors print one message, never a stack trace. */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const exit = { code: EXIT.ok as number };
  const program = buildProgram(io, exit);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exit.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with exit code 0; everything else is a usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof CliError) {
      io.stderr(`${error.message}\n`);
      return error.exitCode;
    }
    const detail = error instanceof Error ? error.message : String(error);
    io.stderr(`adapt: internal error: ${detail}\n`);
    if (process.env.ADAPT_DEBUG && error instanceof Error) io.stderr(`${error.stack}\n`);
    io.stderr('this is a bug in adaptc; please report it with the input that caused it\n');
    return 70;
  }
}
