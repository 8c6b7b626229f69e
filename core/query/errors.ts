import { TidemarkError } from '../errors';

/**
 * DuckDB errors → InvalidInput with the position in the SQL. DuckDB reports `LINE n:` followed by
 * the line and a caret; we turn that into `line n, column c` and keep its first message line.
 */
export function mapDuckDbError(e: unknown, sql: string): TidemarkError {
  if (e instanceof TidemarkError) return e;
  const text = e instanceof Error ? e.message : String(e);
  const first = text.split('\n')[0]!.trim();
  const m = /LINE (\d+):\s?(.*)\n(\s*)\^/.exec(text);
  let where = '';
  const context: Record<string, string | number> = { sql };
  if (m) {
    const line = Number(m[1]);
    // The caret line is indented by the length of "LINE n: " plus the column.
    const column = m[3]!.length - `LINE ${m[1]}: `.length + 1;
    where = ` (line ${line}, column ${column})`;
    context.line = line;
    context.column = column;
  }
  if (/Catalog Error: Table Function with name "?(read_parquet|parquet_scan)/i.test(text) || /autoload/i.test(text)) {
    return new TidemarkError('Unsupported', `${first} — Tidemark reads Parquet through the lake (query tables as ns.table), not with read_parquet`, context, e);
  }
  const code = /^(Parser|Binder|Catalog|Conversion|Invalid Input|Constraint|Not implemented) Error/.test(first) ? 'InvalidInput' : 'Internal';
  return new TidemarkError(code, `${first}${where}`, context, e);
}
