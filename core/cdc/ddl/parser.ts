/**
 * Parses the table DDL of binlog query events (CREATE / ALTER / DROP / RENAME / TRUNCATE TABLE,
 * DROP DATABASE) into typed changes. Statements that cannot change a table's shape (indexes,
 * grants, views, triggers, …) parse to `other`. A statement that looks like table DDL but cannot be
 * parsed throws Unsupported naming the statement; the caller decides whether it touches a captured
 * table (guessDdlTables) and so whether the error stands.
 */
import { TidemarkError } from '../../errors/index';
import { TokenCursor, tokenize, type Token } from './tokenizer';
import { charsetOfCollation, isTextType } from '../schema/information-schema';
import { mapColumnType, type TypeMapOptions } from '../schema/type-map';
import type { ColumnPosition, ColumnSchema, SchemaChange, TableId } from '../types';

export type ParsedDdl =
  | { kind: 'other' }
  /** `charset`: the table's default character set when the statement names one. */
  | { kind: 'create-table'; table: TableId; columns: ColumnSchema[]; primaryKey: string[]; charset?: string }
  | { kind: 'create-table-like'; table: TableId; like: TableId }
  /** `charset`: a new table default character set, or (`convert`) one every text column is converted to. */
  | { kind: 'alter-table'; table: TableId; changes: SchemaChange[]; renameTo: TableId | null; charset?: CharsetChange }
  | { kind: 'drop-tables'; tables: TableId[] }
  | { kind: 'rename-tables'; pairs: { from: TableId; to: TableId }[] }
  | { kind: 'truncate-table'; table: TableId }
  | { kind: 'drop-database'; db: string };

/** `ALTER TABLE … [DEFAULT] CHARACTER SET x` (table default) or `CONVERT TO CHARACTER SET x` (every text column too). */
export interface CharsetChange {
  charset: string;
  convert: boolean;
}

class ParseError extends Error {}

function fail(message: string): never {
  throw new ParseError(message);
}

function identText(t: Token | undefined): string | null {
  if (!t) return null;
  if (t.kind === 'ident') return t.text;
  if (t.kind === 'word') return t.text;
  return null;
}

function readIdent(c: TokenCursor, what: string): string {
  const t = c.next();
  const s = identText(t);
  if (s === null) fail(`expected ${what}, found ${t ? t.text : 'end of statement'}`);
  return s;
}

function readTableRef(c: TokenCursor, defaultDb: string): TableId {
  const first = readIdent(c, 'a table name');
  if (c.acceptPunct('.')) return { db: first, table: readIdent(c, 'a table name') };
  return { db: defaultDb, table: first };
}

/** Reads `( … )` as raw text pieces, for type arguments such as (10,2) or ('a','b'). */
function readParenArgs(c: TokenCursor): string[] {
  if (!c.acceptPunct('(')) return [];
  const args: string[] = [];
  let cur = '';
  let depth = 0;
  for (;;) {
    const t = c.next();
    if (!t) fail('unterminated parenthesis');
    if (t.kind === 'punct' && t.text === ')' && depth === 0) break;
    if (t.kind === 'punct' && t.text === ',' && depth === 0) {
      args.push(cur);
      cur = '';
      continue;
    }
    if (t.kind === 'punct' && t.text === '(') depth++;
    if (t.kind === 'punct' && t.text === ')') depth--;
    cur += t.kind === 'string' ? `'${t.text.replace(/'/g, "''")}'` : t.text;
  }
  args.push(cur);
  return args;
}

/** A character set or collation name after CHARACTER SET / CHARSET / COLLATE (an optional `=` first). */
function readCharsetName(c: TokenCursor, what: string): string {
  c.acceptPunct('=');
  const t = c.next();
  if (!t || (t.kind !== 'word' && t.kind !== 'ident' && t.kind !== 'string')) fail(`expected a ${what} name, found ${t?.text ?? 'end of statement'}`);
  return t.text.toLowerCase();
}

/**
 * Reads `CHARACTER SET x` / `CHARSET x` / `COLLATE y` at the cursor (a collation names its
 * character set); null when none is there.
 */
function acceptCharsetClause(c: TokenCursor): string | null {
  if (c.acceptWords('CHARACTER', 'SET') || c.acceptWords('CHARSET')) return charsetOfCollation(readCharsetName(c, 'character set'));
  if (c.acceptWords('COLLATE')) return charsetOfCollation(readCharsetName(c, 'collation'));
  return null;
}

const TYPE_SYNONYMS: Record<string, string> = { NCHAR: 'char', NVARCHAR: 'varchar', CHARACTER: 'char', INTEGER: 'int', BOOL: 'tinyint', BOOLEAN: 'tinyint', DEC: 'decimal', NUMERIC: 'decimal', FIXED: 'decimal', REAL: 'double', INT4: 'int', INT8: 'bigint' };

/** Parses `name type [attributes…]` up to the next `,` or `)` at depth 0. */
function readColumnDef(c: TokenCursor, options: TypeMapOptions, where: string, name?: string): { column: ColumnSchema; primaryKey: boolean } {
  const colName = name ?? readIdent(c, 'a column name');
  const typeTok = c.next();
  if (!typeTok || typeTok.kind !== 'word') fail(`column ${colName}: expected a type, found ${typeTok?.text ?? 'end of statement'}`);
  let base = TYPE_SYNONYMS[typeTok.upper] ?? typeTok.text.toLowerCase();
  if (typeTok.upper === 'DOUBLE' && c.acceptWords('PRECISION')) base = 'double';
  if (typeTok.upper === 'LONG' && (c.acceptWords('VARCHAR') || c.isPunct(',') || c.isPunct(')'))) base = 'mediumtext';
  if ((typeTok.upper === 'CHARACTER' || typeTok.upper === 'NATIONAL') && (c.acceptWords('VARYING') || c.acceptWords('VARCHAR'))) base = 'varchar';
  else if (typeTok.upper === 'NATIONAL' && c.acceptWords('CHAR')) base = 'char';
  let args = readParenArgs(c);
  if (typeTok.upper === 'BOOL' || typeTok.upper === 'BOOLEAN') args = ['1'];
  // NCHAR / NVARCHAR / NATIONAL CHAR are utf8mb3 (MySQL 5.7 calls it utf8).
  let charset: string | undefined = typeTok.upper === 'NATIONAL' || typeTok.upper === 'NCHAR' || typeTok.upper === 'NVARCHAR' ? 'utf8mb3' : undefined;
  let unsigned = false;
  for (;;) {
    if (c.acceptWords('UNSIGNED')) unsigned = true;
    else if (c.acceptWords('SIGNED') || c.acceptWords('ZEROFILL')) continue;
    else break;
  }
  const mysqlType = `${base}${args.length ? `(${args.join(',')})` : ''}${unsigned ? ' unsigned' : ''}`;
  let nullable = true;
  let primaryKey = false;
  if (base === 'serial') nullable = false;
  // Attributes: only nullability, inline PRIMARY KEY and the character set matter for the schema;
  // the rest is skipped. A COLLATE after CHARACTER SET names a collation of the same set.
  let depth = 0;
  for (;;) {
    const t = c.peek();
    if (!t) break;
    if (t.kind === 'punct') {
      if ((t.text === ',' || t.text === ')' || t.text === ';') && depth === 0) break;
      if (t.text === '(') depth++;
      if (t.text === ')') depth--;
      c.next();
      continue;
    }
    if (depth === 0 && t.kind === 'word') {
      if (t.upper === 'FIRST' || (t.upper === 'AFTER' && c.peek(1)?.kind !== 'punct')) break;
      if (c.acceptWords('NOT', 'NULL')) {
        nullable = false;
        continue;
      }
      if (c.acceptWords('PRIMARY', 'KEY') || (c.isWord('KEY') && !c.isWord('UNIQUE', -1) && c.acceptWords('KEY'))) {
        primaryKey = true;
        nullable = false;
        continue;
      }
      const cs = acceptCharsetClause(c);
      if (cs !== null) {
        charset ??= cs;
        continue;
      }
      if (c.acceptWords('ASCII')) {
        charset ??= 'latin1';
        continue;
      }
      if (c.acceptWords('UNICODE')) {
        charset ??= 'ucs2';
        continue;
      }
    }
    c.next();
  }
  return {
    column: {
      name: colName,
      mysqlType,
      icebergType: mapColumnType(mysqlType, options, `${where}.${colName}`),
      nullable,
      position: 0,
      ...(charset !== undefined && isTextType(mysqlType) ? { charset } : {}),
    },
    primaryKey,
  };
}

function readPosition(c: TokenCursor): ColumnPosition | null {
  if (c.acceptWords('FIRST')) return { kind: 'first' };
  if (c.acceptWords('AFTER')) return { kind: 'after', column: readIdent(c, 'a column name after AFTER') };
  return null;
}

function readKeyColumns(c: TokenCursor): string[] {
  if (!c.acceptPunct('(')) fail('expected ( after PRIMARY KEY');
  const cols: string[] = [];
  for (;;) {
    cols.push(readIdent(c, 'a key column'));
    readParenArgs(c); // prefix length, e.g. name(10)
    if (!c.acceptWords('ASC')) c.acceptWords('DESC');
    if (c.acceptPunct(',')) continue;
    if (c.acceptPunct(')')) break;
    fail(`unexpected ${c.peek()?.text ?? 'end'} in key column list`);
  }
  return cols;
}

const CREATE_SKIP = ['KEY', 'INDEX', 'UNIQUE', 'FULLTEXT', 'SPATIAL', 'FOREIGN', 'CHECK', 'PERIOD', 'CONSTRAINT'];

function parseCreateTable(c: TokenCursor, db: string, options: TypeMapOptions): ParsedDdl {
  c.acceptWords('IF', 'NOT', 'EXISTS');
  const table = readTableRef(c, db);
  const where = `${table.db}.${table.table}`;
  if (c.acceptWords('LIKE')) return { kind: 'create-table-like', table, like: readTableRef(c, db) };
  if (c.acceptPunct('(')) {
    if (c.acceptWords('LIKE')) {
      const like = readTableRef(c, db);
      return { kind: 'create-table-like', table, like };
    }
    const columns: ColumnSchema[] = [];
    let primaryKey: string[] = [];
    for (;;) {
      if (c.isWord('CONSTRAINT') && !c.isWord('PRIMARY', 1) && !c.isWord('PRIMARY', 2)) {
        c.skipElement();
      } else if (c.acceptWords('CONSTRAINT')) {
        if (!c.isWord('PRIMARY')) readIdent(c, 'a constraint name');
        c.acceptWords('PRIMARY', 'KEY');
        primaryKey = readKeyColumns(c);
        c.skipElement();
      } else if (c.acceptWords('PRIMARY', 'KEY')) {
        readUsing(c);
        primaryKey = readKeyColumns(c);
        c.skipElement();
      } else if (c.peek()?.kind === 'word' && CREATE_SKIP.includes((c.peek() as { upper: string }).upper)) {
        c.skipElement();
      } else {
        const def = readColumnDef(c, options, where);
        def.column.position = columns.length + 1;
        columns.push(def.column);
        if (def.primaryKey) primaryKey = [def.column.name];
      }
      if (c.acceptPunct(',')) continue;
      if (c.acceptPunct(')')) break;
      fail(`unexpected ${c.peek()?.text ?? 'end of statement'} in column list`);
    }
    const pkSet = new Set(primaryKey.map((k) => k.toLowerCase()));
    for (const col of columns) if (pkSet.has(col.name.toLowerCase())) col.nullable = false;
    const charset = readTableCharset(c);
    return { kind: 'create-table', table, columns, primaryKey, ...(charset !== null ? { charset } : {}) };
  }
  fail('CREATE TABLE … AS SELECT without a column list is not supported');
}

/**
 * The default character set among the table options after CREATE TABLE's column list
 * (`[DEFAULT] CHARSET=x`, `CHARACTER SET x`, `COLLATE y`), up to a partitioning clause or a SELECT.
 */
function readTableCharset(c: TokenCursor): string | null {
  let charset: string | null = null;
  while (!c.atEnd()) {
    const t = c.peek()!;
    if (t.kind === 'word' && ['AS', 'SELECT', 'IGNORE', 'REPLACE', 'PARTITION', 'WITH', 'TABLE', 'VALUES'].includes(t.upper)) break;
    const cs = acceptCharsetClause(c);
    if (cs !== null) {
      // An explicit CHARACTER SET wins over the set a later COLLATE implies (they agree when valid).
      charset ??= cs;
      continue;
    }
    c.next();
  }
  return charset;
}

function readUsing(c: TokenCursor): void {
  if (c.acceptWords('USING')) c.next();
}

const ALTER_IGNORED_ADD = ['INDEX', 'KEY', 'UNIQUE', 'FULLTEXT', 'SPATIAL', 'CONSTRAINT', 'FOREIGN', 'CHECK', 'PERIOD', 'PARTITION', 'SYSTEM'];
const ALTER_IGNORED_DROP = ['INDEX', 'KEY', 'FOREIGN', 'CONSTRAINT', 'CHECK', 'PARTITION', 'SYSTEM', 'PERIOD'];
/** Table options and operations that leave the column list unchanged. */
const ALTER_IGNORED = [
  'ENGINE', 'AUTO_INCREMENT', 'DEFAULT', 'CHARSET', 'CHARACTER', 'COLLATE', 'COMMENT', 'ALGORITHM', 'LOCK', 'FORCE', 'ORDER',
  'ROW_FORMAT', 'KEY_BLOCK_SIZE', 'CONVERT', 'DISCARD', 'IMPORT', 'ENABLE', 'DISABLE', 'COALESCE', 'REORGANIZE', 'ANALYZE',
  'CHECK', 'OPTIMIZE', 'REBUILD', 'REPAIR', 'REMOVE', 'TRUNCATE', 'EXCHANGE', 'PARTITION', 'STATS_PERSISTENT',
  'STATS_AUTO_RECALC', 'STATS_SAMPLE_PAGES', 'PACK_KEYS', 'CHECKSUM', 'DELAY_KEY_WRITE', 'MAX_ROWS', 'MIN_ROWS',
  'PAGE_CHECKSUM', 'TRANSACTIONAL', 'ENCRYPTED', 'ENCRYPTION_KEY_ID', 'PAGE_COMPRESSED', 'PAGE_COMPRESSION_LEVEL',
  'WITH', 'WITHOUT', 'SEQUENCE', 'UNION', 'INSERT_METHOD', 'DATA', 'INDEX', 'AVG_ROW_LENGTH', 'CONNECTION', 'PASSWORD',
  'TABLESPACE', 'STORAGE', 'COMPRESSION', 'SECONDARY_ENGINE', 'AUTOEXTEND_SIZE', 'VALIDATION', 'ATTRIBUTE', 'NOWAIT', 'WAIT',
];

/** `[DEFAULT] CHARACTER SET` / `CHARSET` / `COLLATE` at the cursor. */
function isCharsetOption(c: TokenCursor): boolean {
  const at = c.isWord('DEFAULT') ? 1 : 0;
  return c.isWord('CHARACTER', at) || c.isWord('CHARSET', at) || c.isWord('COLLATE', at);
}

/**
 * An ALTER TABLE element of table options (several may run on without commas: `ENGINE=InnoDB
 * DEFAULT CHARSET=latin1`) or of an operation that keeps the columns, up to the next `,`; returns
 * the default character set it names, if any.
 */
function readTableOptions(c: TokenCursor): string | null {
  let charset: string | null = null;
  for (;;) {
    if (isCharsetOption(c)) c.acceptWords('DEFAULT');
    const cs = acceptCharsetClause(c);
    if (cs !== null) {
      charset ??= cs;
      continue;
    }
    if (c.atEnd() || c.isPunct(',') || c.isPunct(';')) return charset;
    if (c.isPunct('(')) {
      c.skipElement();
      return charset;
    }
    c.next();
  }
}

function parseAlterTable(c: TokenCursor, db: string, options: TypeMapOptions): ParsedDdl {
  c.acceptWords('IF', 'EXISTS');
  const table = readTableRef(c, db);
  const where = `${table.db}.${table.table}`;
  if (c.acceptWords('WAIT') || c.acceptWords('NOWAIT')) {
    if (c.peek()?.kind === 'number') c.next();
  }
  const changes: SchemaChange[] = [];
  let renameTo: TableId | null = null;
  // The key after the statement when it changes it (DROP PRIMARY KEY, ADD PRIMARY KEY, or both).
  let primaryKey: string[] | undefined;
  let charset: CharsetChange | undefined;
  while (!c.atEnd()) {
    if (c.acceptWords('CONVERT', 'TO')) {
      const cs = acceptCharsetClause(c);
      if (cs === null) fail('expected CHARACTER SET after CONVERT TO');
      charset = { charset: cs, convert: true };
      c.skipElement();
    } else if (isCharsetOption(c) || (c.peek()?.kind === 'word' && ALTER_IGNORED.includes((c.peek() as { upper: string }).upper))) {
      // Table options and operations that keep the columns; a character set among them counts.
      const cs = readTableOptions(c);
      if (cs !== null && !charset?.convert) charset = { charset: charset?.charset ?? cs, convert: false };
    } else if (c.acceptWords('ADD')) {
      // ADD [CONSTRAINT [name]] PRIMARY KEY [USING …] (cols) [options]
      const constraintPk = c.isWord('CONSTRAINT') && (c.isWord('PRIMARY', 1) || c.isWord('PRIMARY', 2));
      if (constraintPk || c.isWord('PRIMARY')) {
        if (c.acceptWords('CONSTRAINT') && !c.isWord('PRIMARY')) readIdent(c, 'a constraint name');
        if (!c.acceptWords('PRIMARY', 'KEY')) fail('expected PRIMARY KEY');
        readUsing(c);
        primaryKey = readKeyColumns(c);
        c.skipElement();
      } else if (c.peek()?.kind === 'word' && ALTER_IGNORED_ADD.includes((c.peek() as { upper: string }).upper)) {
        c.skipElement();
      } else {
        c.acceptWords('COLUMN');
        c.acceptWords('IF', 'NOT', 'EXISTS');
        if (c.acceptPunct('(')) {
          for (;;) {
            const def = readColumnDef(c, options, where);
            changes.push({ kind: 'add-column', column: def.column, position: { kind: 'last' } });
            if (c.acceptPunct(',')) continue;
            if (c.acceptPunct(')')) break;
            fail(`unexpected ${c.peek()?.text ?? 'end'} in ADD COLUMN list`);
          }
        } else {
          const def = readColumnDef(c, options, where);
          changes.push({ kind: 'add-column', column: def.column, position: readPosition(c) ?? { kind: 'last' } });
          if (def.primaryKey) primaryKey = [def.column.name];
        }
      }
    } else if (c.acceptWords('DROP')) {
      if (c.acceptWords('PRIMARY', 'KEY')) primaryKey = [];
      else if (c.peek()?.kind === 'word' && ALTER_IGNORED_DROP.includes((c.peek() as { upper: string }).upper)) c.skipElement();
      else {
        c.acceptWords('COLUMN');
        c.acceptWords('IF', 'EXISTS');
        changes.push({ kind: 'drop-column', name: readIdent(c, 'a column name') });
        if (!c.acceptWords('RESTRICT')) c.acceptWords('CASCADE');
      }
    } else if (c.acceptWords('CHANGE')) {
      c.acceptWords('COLUMN');
      c.acceptWords('IF', 'EXISTS');
      const from = readIdent(c, 'a column name');
      const def = readColumnDef(c, options, where);
      changes.push({ kind: 'modify-column', from, column: def.column, position: readPosition(c) });
      if (def.primaryKey) primaryKey = [def.column.name];
    } else if (c.acceptWords('MODIFY')) {
      c.acceptWords('COLUMN');
      c.acceptWords('IF', 'EXISTS');
      const def = readColumnDef(c, options, where);
      changes.push({ kind: 'modify-column', from: def.column.name, column: def.column, position: readPosition(c) });
      if (def.primaryKey) primaryKey = [def.column.name];
    } else if (c.acceptWords('RENAME')) {
      if (c.acceptWords('COLUMN')) {
        c.acceptWords('IF', 'EXISTS');
        const from = readIdent(c, 'a column name');
        if (!c.acceptWords('TO')) fail('expected TO in RENAME COLUMN');
        changes.push({ kind: 'rename-column', from, to: readIdent(c, 'a column name') });
      } else if (c.isWord('INDEX') || c.isWord('KEY')) {
        c.skipElement();
      } else {
        if (!c.acceptWords('TO')) c.acceptWords('AS');
        renameTo = readTableRef(c, db);
      }
    } else if (c.acceptWords('ALTER')) {
      // ALTER [COLUMN] c SET/DROP DEFAULT, ALTER INDEX … VISIBLE: no change of type or name.
      c.skipElement();
    } else {
      fail(`unknown ALTER TABLE clause ${c.peek()?.text}`);
    }
    if (!c.acceptPunct(',')) break;
  }
  c.acceptPunct(';');
  if (!c.atEnd() && c.peek() !== undefined) fail(`unexpected ${c.peek()!.text} after ALTER TABLE clauses`);
  // Last, so the key names columns as they are after the statement's column changes.
  if (primaryKey !== undefined) changes.push({ kind: 'alter-primary-key', primaryKey });
  return { kind: 'alter-table', table, changes, renameTo, ...(charset ? { charset } : {}) };
}

function readTableList(c: TokenCursor, db: string): TableId[] {
  const out = [readTableRef(c, db)];
  while (c.acceptPunct(',')) out.push(readTableRef(c, db));
  return out;
}

/** Parses one DDL statement; `db` is the query event's default database. */
export function parseDdl(sql: string, db: string, options: TypeMapOptions): ParsedDdl {
  const c = new TokenCursor(tokenize(sql));
  try {
    if (c.acceptWords('CREATE')) {
      c.acceptWords('OR', 'REPLACE');
      if (c.acceptWords('TEMPORARY')) return { kind: 'other' }; // temporary tables are session-local, never captured
      if (c.acceptWords('TABLE')) return parseCreateTable(c, db, options);
      return { kind: 'other' };
    }
    if (c.acceptWords('ALTER')) {
      c.acceptWords('ONLINE');
      c.acceptWords('IGNORE');
      if (c.acceptWords('TABLE')) return parseAlterTable(c, db, options);
      return { kind: 'other' };
    }
    if (c.acceptWords('DROP')) {
      if (c.acceptWords('TEMPORARY')) return { kind: 'other' };
      if (c.acceptWords('TABLE') || c.acceptWords('TABLES')) {
        c.acceptWords('IF', 'EXISTS');
        return { kind: 'drop-tables', tables: readTableList(c, db) };
      }
      if (c.acceptWords('DATABASE') || c.acceptWords('SCHEMA')) {
        c.acceptWords('IF', 'EXISTS');
        return { kind: 'drop-database', db: readIdent(c, 'a database name') };
      }
      return { kind: 'other' };
    }
    if (c.acceptWords('RENAME')) {
      if (!(c.acceptWords('TABLE') || c.acceptWords('TABLES'))) return { kind: 'other' };
      const pairs: { from: TableId; to: TableId }[] = [];
      do {
        const from = readTableRef(c, db);
        if (c.acceptWords('WAIT') || c.acceptWords('NOWAIT')) if (c.peek()?.kind === 'number') c.next();
        if (!c.acceptWords('TO')) fail('expected TO in RENAME TABLE');
        pairs.push({ from, to: readTableRef(c, db) });
      } while (c.acceptPunct(','));
      return { kind: 'rename-tables', pairs };
    }
    if (c.acceptWords('TRUNCATE')) {
      c.acceptWords('TABLE');
      return { kind: 'truncate-table', table: readTableRef(c, db) };
    }
    return { kind: 'other' };
  } catch (e) {
    if (e instanceof ParseError) {
      throw new TidemarkError('Unsupported', `cannot parse DDL ${JSON.stringify(sql.length > 300 ? sql.slice(0, 300) + '…' : sql)}: ${e.message}`, {
        statement: sql.slice(0, 1000),
      });
    }
    throw e;
  }
}

/** Best-effort table names of a DDL statement that failed to parse, to decide whether it matters. */
export function guessDdlTables(sql: string, db: string): TableId[] {
  const toks = tokenize(sql);
  const out: TableId[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.kind === 'word' && (t.upper === 'TABLE' || t.upper === 'TABLES' || t.upper === 'TO' || t.upper === 'LIKE' || t.upper === 'EXISTS')) {
      const a = identText(toks[i + 1]);
      if (a === null || (toks[i + 1]!.kind === 'word' && ['IF', 'NOT'].includes((toks[i + 1] as { upper: string }).upper))) continue;
      if (toks[i + 2]?.kind === 'punct' && toks[i + 2]!.text === '.') {
        const b = identText(toks[i + 3]);
        if (b !== null) out.push({ db: a, table: b });
      } else out.push({ db, table: a });
    }
  }
  return out;
}
