/**
 * Per-column statistics of a table version, computed in DuckDB: count, nulls, min, max,
 * approximate distinct count, a 20-bin equi-width histogram for numeric, date and timestamp
 * columns, and the 10 most frequent values of string columns.
 */
import type { NestedField } from '../lake';
import type { LoadedTable, SnapshotSelector } from '../lake';
import { quoteIdent } from './duckdb';
import type { QueryEngine } from './engine';
import type { ColumnStats, HistogramBin } from '../api';
export type { ColumnStats, HistogramBin };

const NUMERIC = /^(int|long|float|double|decimal\(.*\))$/;
const TEMPORAL = /^(date|timestamp|timestamptz)$/;
const BINS = 20;

function isComparable(f: NestedField): boolean {
  return typeof f.type === 'string' && !['binary', 'uuid'].includes(f.type) && !/^fixed/.test(f.type);
}

/**
 * Stats of every top-level column of an Iceberg table version, one column at a time: each column
 * is registered alone as a full-pass version (its files' chunks of that column, deletes resolved
 * from the version's live masks: positions and equality key columns only, never a merged version)
 * and dropped before the next, so memory holds one column of the version, not all of them.
 */
export async function readVersionStats(engine: QueryEngine, table: string | LoadedTable, selector: SnapshotSelector = {}): Promise<ColumnStats[]> {
  const loaded = typeof table === 'string' ? await engine.loadTable(table) : table;
  const plan = await engine.plan(loaded, selector);
  const out: ColumnStats[] = [];
  for (const field of plan.schema.fields) {
    const { view, columns } = await engine.registerView(loaded, { ...selector, columns: [field.name] });
    try {
      out.push(...(await readColumnStats(engine, { relation: quoteIdent(view), columns })));
    } finally {
      await engine.dropView(view);
    }
  }
  return out;
}

/** Stats of every column of `relation` (a table, view or subquery) typed by `columns`. */
export async function readColumnStats(engine: QueryEngine, source: { relation: string; columns: NestedField[] }): Promise<ColumnStats[]> {
  const { columns } = source;
  const v = source.relation;
  const out: ColumnStats[] = [];
  for (const f of columns) {
    const c = quoteIdent(f.name);
    const type = typeof f.type === 'string' ? f.type : f.type.type;
    const comparable = isComparable(f);
    const base = await engine.query(
      `SELECT count(*), count(*) - count(${c}), ${comparable ? `min(${c}), max(${c}), approx_count_distinct(${c})` : 'NULL, NULL, NULL'} FROM ${v}`,
    );
    const [count, nonNull, min, max, distinct] = base.rows[0]!;
    const stats: ColumnStats = {
      name: f.name,
      type,
      count: Number(count),
      nulls: Number(nonNull),
      min: min ?? null,
      max: max ?? null,
      approxDistinct: distinct === null || distinct === undefined ? 0 : Number(distinct),
      histogram: null,
      topValues: null,
    };
    if (typeof f.type === 'string' && (NUMERIC.test(f.type) || TEMPORAL.test(f.type)) && min !== null && min !== undefined) {
      // Equi-width bins over epoch microseconds for temporal columns, the value itself otherwise.
      const x = TEMPORAL.test(f.type) ? (f.type === 'date' ? `epoch_us(CAST(${c} AS TIMESTAMP))` : `epoch_us(${c})`) : `CAST(${c} AS DOUBLE)`;
      const h = await engine.query(
        `WITH s AS (SELECT min(${x}) AS lo, max(${x}) AS hi FROM ${v}),
              b AS (SELECT CASE WHEN s.hi = s.lo THEN 0 ELSE least(${BINS - 1}, floor((${x} - s.lo) / ((s.hi - s.lo) / ${BINS})))::INTEGER END AS bin FROM ${v}, s WHERE ${c} IS NOT NULL)
         SELECT bin, count(*), (SELECT lo FROM s), (SELECT hi FROM s) FROM b GROUP BY bin ORDER BY bin`,
      );
      const lo = Number(h.rows[0]?.[2] ?? 0);
      const hi = Number(h.rows[0]?.[3] ?? 0);
      const width = hi === lo ? 0 : (hi - lo) / BINS;
      const bins = hi === lo ? 1 : BINS;
      const counts = new Map(h.rows.map((r) => [Number(r[0]), Number(r[1])]));
      const edge = (k: number) => {
        const value = lo + width * k;
        if (!TEMPORAL.test(f.type as string)) return value;
        const iso = new Date(Math.round(value / 1000)).toISOString();
        return f.type === 'date' ? iso.slice(0, 10) : iso;
      };
      stats.histogram = Array.from({ length: bins }, (_x, k) => ({ low: edge(k), high: edge(k + 1), count: counts.get(k) ?? 0 }));
    }
    if (f.type === 'string') {
      const top = await engine.query(`SELECT ${c}, count(*) AS n FROM ${v} WHERE ${c} IS NOT NULL GROUP BY 1 ORDER BY n DESC, 1 LIMIT 10`);
      stats.topValues = top.rows.map((r) => ({ value: r[0], count: Number(r[1]) }));
    }
    out.push(stats);
  }
  return out;
}
