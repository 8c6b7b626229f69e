/**
 * Where a binlog change stands against the chunk being read (phase.ts, step 2): before it (emit),
 * in it (fold into the chunk) or after it (skip) — in JS for integer keys, by the server for
 * other tuple keys.
 */
import { TidemarkError } from '../../errors/index';
import type { HeldRowsEvent } from '../binlog/rows';
import type { RowFilter, RowRegion } from '../change-processor';
import { formatTableId, type TableId } from '../types';
import { integerTupleAtMost, keyTupleOf, placeKeys, type KeyPlace, type KeyTuple } from './chunk-keys';
import { integerBound, tupleBound, type ChunkBound, type ChunkPlan } from './chunk-plan';
import type { SnapshotPhaseOptions } from './phase';
import { toKey, type ChunkResult } from './reader';

/** A key tuple as map key: its values with their types (binary as hex). */
function keySignature(key: KeyTuple): string {
  let out = '';
  for (const v of key) out += (typeof v === 'string' ? 's' + v : typeof v === 'number' ? 'n' + String(v) : 'x' + Buffer.from(v).toString('hex')) + '\u0000';
  return out;
}

const REGION_OF_PLACE: Record<KeyPlace, RowRegion> = { done: 'emit', chunk: 'chunk', after: 'skip' };

/**
 * The binlog filter of one chunk's drain (step 2 of phase.ts): a change to a row of a table already
 * read, or of a chunk already emitted, is emitted; one to a row after this chunk is skipped; one to
 * a row of this chunk is folded into the chunk (`buffer`, built on first use).
 */
export function makeChunkFilter(
  opts: SnapshotPhaseOptions,
  plan: ChunkPlan,
  lastKey: ChunkBound | null,
  chunk: ChunkResult,
  buffer: () => Map<string, Record<string, unknown>>,
): RowFilter {
  const snap = opts.state.snapshot!;
  const index = new Map(snap.tables.map((t, i) => [formatTableId(t), i]));
  const current = snap.tableIndex;
  const id = plan.schema.table;
  const catalog = opts.state.catalog;
  const upper = chunk.upper;
  // Where a key of the table being read stands against (lastKey, upper]: in JS for integers, by the
  // server otherwise (keys placed in `prepare`, before the transaction is converted).
  let place: (row: Record<string, unknown>) => RowRegion;
  let prepare: RowFilter['prepare'];
  const tuple = plan.tuple;
  if (plan.keyColumn !== null) {
    const key = plan.keyColumn;
    const lo = integerBound(lastKey);
    const hi = integerBound(upper);
    place = (row) => {
      const k = toKey(row[key]);
      if (lo !== null && k <= lo) return 'emit';
      return hi === null || k <= hi ? 'chunk' : 'skip';
    };
  } else if (tuple === null) {
    place = () => 'chunk';
  } else if (tuple.kinds.every((k) => k === 'integer')) {
    const lo = tupleBound(lastKey);
    const hi = tupleBound(upper);
    place = (row) => {
      const k = keyTupleOf(row, tuple.columns);
      if (lo !== null && integerTupleAtMost(k, lo)) return 'emit';
      return hi === null || integerTupleAtMost(k, hi) ? 'chunk' : 'skip';
    };
  } else {
    const placed = new Map<string, RowRegion>();
    place = (row) => {
      const region = placed.get(keySignature(keyTupleOf(row, tuple.columns)));
      if (region === undefined) throw new TidemarkError('Internal', `a binlog row of ${formatTableId(id)} reached the snapshot filter unplaced`, { table: formatTableId(id) });
      return region;
    };
    prepare = async (events: readonly HeldRowsEvent[]) => {
      const keys: KeyTuple[] = [];
      const signatures: string[] = [];
      const asked = new Set<string>();
      const add = (row: Record<string, unknown>) => {
        const key = keyTupleOf(row, tuple.columns);
        const sig = keySignature(key);
        if (placed.has(sig) || asked.has(sig)) return;
        asked.add(sig);
        keys.push(key);
        signatures.push(sig);
      };
      for (const held of events) {
        if (held.table.db !== id.db || held.table.table !== id.table) continue;
        for (const r of held.rows(catalog.decodingMap(held))) {
          if (held.op === 'u') {
            add((r as { before: Record<string, unknown> }).before);
            add((r as { after: Record<string, unknown> }).after);
          } else add(r as Record<string, unknown>);
        }
      }
      if (keys.length === 0) return;
      const places = await placeKeys(opts.conn, tuple.sql!, keys, tupleBound(lastKey), tupleBound(upper));
      for (let i = 0; i < keys.length; i++) placed.set(signatures[i]!, REGION_OF_PLACE[places[i]!]);
    };
  }
  return {
    region(table: TableId, row: Record<string, unknown>): RowRegion {
      const i = index.get(formatTableId(table));
      if (i === undefined || i < current) return 'emit';
      if (i > current) return 'skip';
      return place(row);
    },
    absorb(op, row) {
      // A table without a primary key has no row identity to fold by; its chunks are exact (the
      // phase requires MariaDB's consistent-snapshot watermark), so the SELECT already holds the change.
      if (plan.keyless) return;
      // Text rows are only kept for exact chunks (reader.ts): the SELECT already holds the change, as
      // for a keyless table, and folding it in would overwrite a row with its own value.
      if (chunk.text) return;
      const k = catalog.keyOf(id, row);
      if (op === 'c') buffer().set(k, row);
      else buffer().delete(k);
    },
    ...(prepare ? { prepare } : {}),
  };
}
