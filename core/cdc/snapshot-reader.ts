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
  const oneTrip = (conn as unknown as { config?: { multipleStatements?: boolean } }).config?.multipleStatements === true;
  if (oneTrip && config.snapshotWatermark === 'auto' && flavor.kind === 'mariadb' && plan.keyColumn !== null && plan.schema.primaryKey.length === 1) {
    return readChunkInOneTrip(conn, flavor, config, plan, plan.keyColumn, lastKey);
  }
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

/**
 * The MariaDB exact-watermark chunk of a single-column integer key as one multi-statement round
 * trip: consistent snapshot, its binlog position, the keyset SELECT, COMMIT. Sent as four
 * queries, each waited for in turn while the event loop was busy converting the previous chunk,
 * the reads stalled the snapshot (~11 ms per 8096-row chunk, measured); in one trip the server
 * streams the rows into the socket meanwhile. Same statements, same results as readChunk's path.
 */
async function readChunkInOneTrip(
  conn: mysql.Connection,
  flavor: Flavor,
  config: ResolvedConfig,
  plan: ChunkPlan,
  keyColumn: string,
  lastKey: bigint | null,
): Promise<ChunkResult> {
  const t = `${quoteId(plan.schema.table.db)}.${quoteId(plan.schema.table.table)}`;
  const k = quoteId(keyColumn);
  const after = lastKey === null ? '' : ` WHERE ${k} > ${lastKey.toString()}`;
  let results: unknown[];
  try {
    [results] = await conn.query<mysql.RowDataPacket[][]>(
      `START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY; SHOW STATUS LIKE 'binlog_snapshot_%'; ` +
        `SELECT ${selectList(plan.schema)} FROM ${t}${after} ORDER BY ${k} LIMIT ${config.chunkSize}; COMMIT`,
    );
  } catch (e) {
    // A failing statement ends the batch: the transaction may still be open.
    await conn.query('ROLLBACK').catch(() => {});
    throw e;
  }
  const status = results[1] as mysql.RowDataPacket[];
  const rows = results[2] as mysql.RowDataPacket[];
  const upper = rows.length === config.chunkSize ? toKey(rows[rows.length - 1]![keyColumn]) : null;
  await config.afterChunkSelect?.(plan.schema.table, lastKey);
  const byName = Object.fromEntries(status.map((r) => [String(r.Variable_name), String(r.Value)]));
  const file = byName.Binlog_snapshot_file;
  const pos = byName.Binlog_snapshot_position;
  if (!file || pos === undefined) {
    // No snapshot position reported: the SELECT is done, so the binlog end now is a high watermark.
    const hw = await readServerPosition(conn, flavor);
    return { rows, upper, watermark: { file: hw.file, pos: hw.pos }, exact: false };
  }
  return { rows, upper, watermark: { file, pos: BigInt(pos) }, exact: true };
}
