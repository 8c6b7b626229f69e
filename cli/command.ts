import { parseArgs, type ParseArgsConfig } from 'node:util';
import { TidemarkError } from '../core/errors';

/** Where a command writes; injected so tests can capture output without spawning. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** What a command's module exports: cli/commands/index.ts pairs it with the command's help text. */
export interface CliRunner {
  /** Returns the exit code (0 when omitted). Throws TidemarkError for failures. */
  run(argv: string[], io: CliIo): Promise<number | void>;
}

export interface CliCommand extends CliRunner {
  name: string;
  /** One line for `tidemark --help`. */
  summary: string;
  /** Usage line(s) after `tidemark `, e.g. `tables <warehouse> [--json]`. */
  usage: string;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses a command's arguments strictly: unknown flags and a wrong number of positionals are
 * InvalidInput naming the command and the bad argument.
 */
export function parseCommandArgs<O extends Options>(
  command: string,
  argv: string[],
  options: O,
  positionals: { min: number; max: number; names: string[] },
) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new TidemarkError('InvalidInput', `${command}: ${(e as Error).message.replace(/\. To specify.*$/s, '')}`, { command });
  }
  const n = parsed.positionals.length;
  if (n < positionals.min) {
    const missing = positionals.names.slice(n, positionals.min).map((p) => `<${p}>`).join(' ');
    throw new TidemarkError('InvalidInput', `${command}: missing ${missing}`, { command });
  }
  if (n > positionals.max) {
    throw new TidemarkError('InvalidInput', `${command}: unexpected argument ${JSON.stringify(parsed.positionals[positionals.max])}`, { command });
  }
  return parsed;
}

/** JSON with 64-bit values (bigint) printed as decimal strings. */
export function stringifyJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}
