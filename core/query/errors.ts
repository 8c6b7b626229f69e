import { TidemarkError } from '../errors';

/**
 * DuckDB-wasm reports some failures as JSON (`{"exception_type":"Out of Memory",
 * "exception_message":"…"}`) instead of DuckDB's `<Type> Error: <message>` text. Both come back as
 * the type and the message, so that no raw JSON reaches a screen.
 */
export function parseDuckDbError(text: string): { type: string | null; message: string } {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed = JSON.parse(trimmed) as { exception_type?: unknown; exception_message?: unknown };
      if (typeof parsed.exception_message === 'string') {
        return { type: typeof parsed.exception_type === 'string' ? parsed.exception_type : null, message: parsed.exception_message };
      }
    } catch {
      // Not JSON after all: the text is the message.
    }
  }
  const m = /^([A-Z][A-Za-z ]*?) Error: ([\s\S]*)$/.exec(trimmed);
  return m ? { type: m[1]!, message: m[2]! } : { type: null, message: trimmed };
}

/** `3.1 GiB/3.1 GiB used` in DuckDB's out-of-memory message, as words. */
function memoryUse(message: string): string {
  const m = /\(([\d.]+ \w+)\/([\d.]+ \w+) used\)/.exec(message);
  return m ? ` (${m[1]} of ${m[2]} used)` : '';
}

/**
 * DuckDB errors → TidemarkError. SQL mistakes are InvalidInput with the position in the SQL
 * (DuckDB's `LINE n:` and caret become `line n, column c`); running out of wasm memory is a
 * sentence saying what to do; anything else keeps DuckDB's first message line, never its JSON.
 */
export function mapDuckDbError(e: unknown, sql: string): TidemarkError {
  if (e instanceof TidemarkError) return e;
  const text = e instanceof Error ? e.message : String(e);
  const { type, message } = parseDuckDbError(text);
  const first = message.split('\n')[0]!.trim();
  const m = /LINE (\d+):\s?(.*)\n(\s*)\^/.exec(message);
  let where = '';
  const context: Record<string, string | number> = { sql };
  if (type) context.duckdbError = type;
  if (m) {
    const line = Number(m[1]);
    // The caret line is indented by the length of "LINE n: " plus the column.
    const column = m[3]!.length - `LINE ${m[1]}: `.length + 1;
    where = ` (line ${line}, column ${column})`;
    context.line = line;
    context.column = column;
  }
  if (/Catalog Error: Table Function with name "?(read_parquet|parquet_scan)/i.test(text) || /autoload/i.test(text)) {
    return new TidemarkError('Unsupported', `${type ? `${type} Error: ` : ''}${first} — Tidemark reads Parquet through the lake (query tables as ns.table), not with read_parquet`, context, e);
  }
  if (type === 'Out of Memory' || /could not allocate|out of memory/i.test(message)) {
    return new TidemarkError(
      'Internal',
      `the query engine ran out of memory${memoryUse(message)}: ask for less at once — a filter, fewer columns, or an older snapshot with fewer rows; an Iceberg table's pages in the Data tab, sorted or filtered, never need this much; a lower query memory budget (Settings) stops such a query before it loads anything`,
      context,
      e,
    );
  }
  const code = type !== null && /^(Parser|Binder|Catalog|Conversion|Invalid Input|Constraint|Not implemented)$/.test(type) ? 'InvalidInput' : 'Internal';
  return new TidemarkError(code, `${type ? `${type} Error: ` : ''}${first}${where}`, context, e);
}

/**
 * An error of a call on one table, said with the table: `cannot read table /w/db/orders at
 * snapshot 42: …`. Errors that name the table already, and cancellations, pass unchanged.
 */
export function withTable(e: unknown, action: string, table: string, snapshot?: bigint | string | null): unknown {
  if (!(e instanceof TidemarkError) || e.code === 'Cancelled' || e.message.includes(table)) return e;
  const at = snapshot === undefined || snapshot === null ? '' : ` at snapshot ${snapshot}`;
  return new TidemarkError(e.code, `cannot ${action} table ${table}${at}: ${e.message}`, { ...e.context, table }, e);
}
