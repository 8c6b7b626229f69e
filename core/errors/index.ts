/**
 * The one error type of Tidemark. Every failure that can reach a user carries a code from a closed
 * set, a message that says what was expected, what was found and where (file path, field id, YAML
 * line, binlog file:position), a plain-data context, and optionally the underlying cause.
 */
export const ERROR_CODES = [
  'InvalidInput',
  'DataInvalid',
  'NotFound',
  'Unsupported',
  'CommitConflict',
  'SourceUnavailable',
  'Io',
  'Cancelled',
  'Internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Context values must survive JSON (IPC, HTTP): no class instances, bigint as decimal strings. */
export type ErrorContext = Record<string, string | number | boolean | null>;

export class TidemarkError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TidemarkError';
    this.code = code;
    this.context = context;
  }
}

export function isTidemarkError(e: unknown): e is TidemarkError {
  return e instanceof TidemarkError;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/**
 * Turns anything thrown into a TidemarkError. Node file-system errors keep their meaning
 * (ENOENT → NotFound, EACCES/ENOSPC/… → Io) so that callers need not map them one by one.
 */
export function toTidemarkError(e: unknown): TidemarkError {
  if (e instanceof TidemarkError) return e;
  if (e instanceof Error) {
    const errno = (e as NodeJS.ErrnoException).code;
    const path = (e as NodeJS.ErrnoException).path;
    const context: ErrorContext = path ? { path } : {};
    if (errno === 'ENOENT') return new TidemarkError('NotFound', path ? `not found: ${path}` : e.message, context, e);
    if (errno && /^E[A-Z]+$/.test(errno)) return new TidemarkError('Io', e.message, { ...context, errno }, e);
    return new TidemarkError('Internal', e.message, {}, e);
  }
  return new TidemarkError('Internal', String(e));
}

/**
 * A failed file-system write (`action` e.g. "write", "create folder") as a TidemarkError naming the
 * path and the OS reason in words: `cannot write /w/t/metadata/x.avro: no space left on device
 * (ENOSPC)`. Node leaves the path out of errors raised on an open handle (`ENOSPC: no space left on
 * device, write`), so the caller passes the path it was writing. ENOENT stays NotFound, other errno
 * codes are Io; anything else goes through toTidemarkError.
 */
export function toWriteError(e: unknown, path: string, action = 'write'): TidemarkError {
  if (e instanceof TidemarkError) return e;
  const errno = e instanceof Error ? (e as NodeJS.ErrnoException).code : undefined;
  if (!errno || !/^E[A-Z0-9]+$/.test(errno)) return toTidemarkError(e);
  // "ENOSPC: no space left on device, write" → "no space left on device"
  const reason = (e as Error).message.replace(/^E[A-Z0-9]+: /, '').replace(/, \w+( '.*')?$/, '');
  const message = `cannot ${action} ${path}: ${reason} (${errno})`;
  return new TidemarkError(errno === 'ENOENT' ? 'NotFound' : 'Io', message, { path, errno }, e);
}
