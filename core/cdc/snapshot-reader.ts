/**
 * Reads one snapshot chunk of a table, lock-free, and reports the binlog watermark the chunk is
 * consistent with (see snapshot-phase.ts for how the watermark is used).
 *
 * Chunks are ranges of one integer key column: (lastKey, upper], where `upper` is the key of the
 * chunk-size-th row after lastKey (null for the last chunk, which is open-ended so rows inserted
 * past the current maximum belong to it). Tables without an integer key are read as one chunk.
 */
import type mysql from 'mysql2/promise';
import { TidemarkError } from '../errors/index';
import type { ResolvedConfig } from './config';
import { quoteId } from './connect';
import { beginConsistentSnapshot, readServerPosition, type Flavor } from './flavor';
import type { BinlogPosition } from './offset';
import { isSpatialType } from './type-map';
import { formatTableId, type TableSchema } from './types';

export interface ChunkPlan {
  schema: TableSchema;
  /** Integer column the table is chunked by; null reads the whole table as one chunk. */
  keyColumn: string | null;
}

function isIntegerColumn(schema: TableSchema, name: string): boolean {
  const col = schema.columns.find((c) => c.name === name);
  return !!col && /^(tinyint|smallint|mediumint|int|integer|bigint)\b/i.test(col.mysqlType);
}

/** Picks the chunk key: the configured one, else the first primary-key column when it is an integer. */
export function planChunks(schema: TableSchema, config: ResolvedConfig): ChunkPlan {
  const name = formatTableId(schema.table);
  const configured = config.chunkKeyColumns[name];
  if (configured !== undefined) {
    if (!schema.primaryKey.includes(configured)) {
      throw new TidemarkError('InvalidInput', `scan.incremental.snapshot.chunk.key-column: ${configured} is not a primary-key column of ${name} (key: ${schema.primaryKey.join(', ') || 'none'})`, {
        table: name,
        column: configured,
      });
    }
    return { schema, keyColumn: isIntegerColumn(schema, configured) ? configured : null };
  }
  const first = schema.primaryKey[0];
  return { schema, keyColumn: first !== undefined && isIntegerColumn(schema, first) ? first : null };
}

/**
 * The SELECT list: FLOAT through CAST(… AS DOUBLE) so the text protocol carries the exact float32
 * value (its plain text form is rounded to 6 digits), spatial values as WKB.
 */
export function selectList(schema: TableSchema): string {
  return schema.columns
    .map((c) => {
      const q = quoteId(c.name);
      if (isSpatialType(c.mysqlType)) return `ST_AsBinary(${q}) AS ${q}`;
      if (/^float\b/i.test(c.mysqlType)) return `CAST(${q} AS DOUBLE) AS ${q}`;
      return q;
    })
    .join(', ');
}

export interface ChunkResult {
  rows: Record<string, unknown>[];
  /** Inclusive upper key of this chunk; null when it is the table's last chunk. */
  upper: bigint | null;
  /**
   * The binlog position the rows are consistent with, in one of two senses: `exact` true — the
   * rows are precisely the state at this position (MariaDB consistent snapshot); false — a high
   * watermark read after the SELECT, so the rows are the state at some point at or before it.
   */
  watermark: BinlogPosition;
  exact: boolean;
}

export function toKey(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' || typeof v === 'string') return BigInt(v);
  throw new TidemarkError('DataInvalid', `chunk key value ${String(v)} is not an integer`, {});
}

export async function readChunk(
  conn: mysql.Connection,
  flavor: Flavor,
  config: ResolvedConfig,
  plan: ChunkPlan,
  lastKey: bigint | null,
): Promise<ChunkResult> {
  const t = `${quoteId(plan.schema.table.db)}.${quoteId(plan.schema.table.table)}`;
  const exactPos = config.snapshotWatermark === 'auto' ? await beginConsistentSnapshot(conn, flavor) : null;
  try {
    let upper: bigint | null = null;
    let rows: mysql.RowDataPacket[];
    if (plan.keyColumn === null) {
      [rows] = await conn.query<mysql.RowDataPacket[]>(`SELECT ${selectList(plan.schema)} FROM ${t}`);
    } else if (plan.schema.primaryKey.length === 1) {
      // A unique key: one keyset-paginated SELECT; the chunk ends at its last row's key.
      const k = quoteId(plan.keyColumn);
      const after = lastKey === null ? '' : ` WHERE ${k} > ${lastKey.toString()}`;
      [rows] = await conn.query<mysql.RowDataPacket[]>(`SELECT ${selectList(plan.schema)} FROM ${t}${after} ORDER BY ${k} LIMIT ${config.chunkSize}`);
      upper = rows.length === config.chunkSize ? toKey(rows[rows.length - 1]![plan.keyColumn]) : null;
    } else {
      // One column of a composite key may repeat: fix the bound first so no key value straddles two chunks.
      const k = quoteId(plan.keyColumn);
      const after = lastKey === null ? '' : `WHERE ${k} > ${lastKey.toString()}`;
      const [b] = await conn.query<mysql.RowDataPacket[]>(
        `SELECT ${k} AS k FROM ${t} ${after} ORDER BY ${k} LIMIT 1 OFFSET ${config.chunkSize - 1}`,
      );
      upper = b[0] ? toKey(b[0].k) : null;
      const conds = [lastKey === null ? null : `${k} > ${lastKey.toString()}`, upper === null ? null : `${k} <= ${upper.toString()}`].filter(Boolean);
      [rows] = await conn.query<mysql.RowDataPacket[]>(
        `SELECT ${selectList(plan.schema)} FROM ${t}${conds.length ? ` WHERE ${conds.join(' AND ')}` : ''}`,
      );
    }
    await config.afterChunkSelect?.(plan.schema.table, lastKey);
    if (exactPos) {
      await conn.query('COMMIT');
      return { rows, upper, watermark: exactPos, exact: true };
    }
    const hw = await readServerPosition(conn, flavor);
    return { rows, upper, watermark: { file: hw.file, pos: hw.pos }, exact: false };
  } catch (e) {
    if (exactPos) await conn.query('ROLLBACK').catch(() => {});
    throw e;
  }
}
