import { toTidemarkError, type ErrorCode } from '../core/errors';
import { TidemarkError } from '../core/errors';
import type { CliIo } from './command';
import { COMMANDS } from './commands';

const EXIT_CODES: Partial<Record<ErrorCode, number>> = { InvalidInput: 2, NotFound: 3 };

export function formatHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = [
    'tidemark — lake explorer and CDC sync manager (Apache Iceberg v2, MySQL/MariaDB binlog)',
    '',
    'Usage: tidemark <command> [arguments]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `tidemark <command> --help` for a command\'s arguments.',
    'Exit codes: 0 ok, 1 error, 2 invalid input, 3 not found.',
  ];
  return lines.join('\n');
}

const defaultIo: CliIo = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/** Runs one CLI invocation; returns the process exit code. Never throws. */
export async function runCli(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      io.out(formatHelp());
      return name === undefined ? 2 : 0;
    }
    const command = COMMANDS.find((c) => c.name === (name === '--version' || name === '-v' ? 'version' : name));
    if (!command) throw new TidemarkError('InvalidInput', `unknown command ${JSON.stringify(name)}; run tidemark --help`, { command: name });
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(`Usage: tidemark ${command.usage}\n\n${command.summary}`);
      return 0;
    }
    const code = await command.run(rest, io);
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    const err = toTidemarkError(e);
    io.err(`error[${err.code}]: ${err.message}`);
    if (err.code === 'Internal' && process.env.TIDEMARK_DEBUG && e instanceof Error) io.err(e.stack ?? '');
    return EXIT_CODES[err.code] ?? 1;
  }
}
