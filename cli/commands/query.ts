import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { StoragePort } from '../../core/storage';
import * as parquet from 'parquet-wasm';
import { defaultDataDir } from '../../core/app/data-dir';
import { createSettingsStore } from '../../core/app/settings';
import { TidemarkError } from '../../core/errors';
import { readVersionStats } from '../../core/query/column-stats';
import { quoteIdent } from '../../core/query/duckdb';
import type { QueryEngine } from '../../core/query/engine';
import { exportParquet, formatCsv } from '../../core/query/export';
import { parseKeyFilter, readKeyHistory } from '../../core/query/key-history';
import { createNodeQueryEngine } from '../../core/query/node/index';
import { diffRows } from '../../core/query/row-diff';
import { diffSchemas, readSchemaVersion } from '../../core/query/schema-diff';
import { openTableSource } from '../../core/query/table-source';
import { queryWarehouse } from '../../core/query/warehouse-sql';
import { parseCommandArgs, stringifyJson, type CliRunner, type CliIo } from '../command';
import { formatTable, isPaimonRoot, lakeLocation, parseSelector, SELECTOR_OPTIONS, toWire, REMOTE_OPTIONS } from './lake-args';
import { listPaimonBranches, listPaimonTagNames, readPaimonSchema, resolvePaimonSnapshot } from '../../core/lake/paimon';
import { loadTable } from '../../core/lake';

/**
 * Runs `run` on a Node query engine reading through `storage` (local disk or S3), with the memory
 * budget saved in the app's settings (the same limit as the app's console).
 */
async function withEngine<T>(storage: StoragePort, run: (engine: QueryEngine) => Promise<T>): Promise<T> {
  const { queryMemoryBudgetMiB } = await createSettingsStore({ dataDir: defaultDataDir() }).read();
  const engine = await createNodeQueryEngine(storage, { memoryBudgetBytes: queryMemoryBudgetMiB * 2 ** 20 });
  try {
    return await run(engine);
  } finally {
    await engine.close();
  }
}

function parseFormat(command: string, value: string | undefined, allowed: string[], fallback: string): string {
  const format = value ?? fallback;
  if (!allowed.includes(format)) throw new TidemarkError('InvalidInput', `${command}: --format expects ${allowed.join(', ')}, found ${JSON.stringify(format)}`);
  return format;
}

function parseVersion(command: string, what: string, text: string): bigint | 'current' {
  if (text === 'current') return 'current';
  if (!/^\d+$/.test(text)) throw new TidemarkError('InvalidInput', `${command}: <${what}> expects a snapshot id or "current", found ${JSON.stringify(text)}`);
  return BigInt(text);
}

function printRows(io: CliIo, format: string, columns: string[], rows: unknown[][]) {
  const objects = rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]])));
  if (format === 'json') io.out(JSON.stringify(objects.map((o) => toWire(o)), null, 2));
  else if (format === 'csv') io.out(formatCsv({ columns: columns.map((name) => ({ name, type: '' })), rows }).trimEnd());
  else io.out(formatTable(columns, objects));
}

export const queryCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('query', argv, { ...REMOTE_OPTIONS, format: { type: 'string' } }, { min: 2, max: 2, names: ['warehouse', 'sql'] });
    const format = parseFormat('query', values.format, ['json', 'csv', 'table'], 'table');
    const { root, storage } = await lakeLocation(positionals[0], values, 'warehouse');
    const result = await withEngine(storage, (engine) => queryWarehouse(engine, root, positionals[1]!));
    printRows(io, format, result.columns.map((c) => c.name), result.rows);
  },
};

export const schemaDiffCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('schema-diff', argv, { ...REMOTE_OPTIONS, json: { type: 'boolean' } }, { min: 3, max: 3, names: ['table', 'from', 'to'] });
    const from = parseVersion('schema-diff', 'from', positionals[1]!);
    const to = parseVersion('schema-diff', 'to', positionals[2]!);
    const { root, storage } = await lakeLocation(positionals[0], values);
    const diff = await withEngine(storage, async (engine) => {
      if (await isPaimonRoot(root, storage)) {
        // Paimon schemas carry field ids too: the same diff applies (partitioning by keys, no spec ids).
        const version = async (v: bigint | 'current') => ({ schema: await readPaimonSchema(engine.storage, root, v === 'current' ? {} : { snapshotId: v }), spec: null });
        return diffSchemas(await version(from), await version(to));
      }
      const table = await engine.loadTable(root);
      return diffSchemas(await readSchemaVersion(engine.storage, table, from), await readSchemaVersion(engine.storage, table, to));
    });
    if (values.json) {
      io.out(stringifyJson(diff));
      return;
    }
    const lines: string[] = [];
    for (const f of diff.added) lines.push(`+ ${f.path}: ${f.type}${f.required ? ' required' : ''} (id ${f.id})`);
    for (const f of diff.removed) lines.push(`- ${f.path}: ${f.type} (id ${f.id})`);
    for (const r of diff.renamed) lines.push(`~ renamed ${r.from} → ${r.to} (id ${r.id})`);
    for (const t of diff.typeChanged) lines.push(`~ ${t.path}: ${t.from} → ${t.to} (id ${t.id})`);
    for (const n of diff.nullabilityChanged) lines.push(`~ ${n.path}: ${n.from} → ${n.to} (id ${n.id})`);
    if (diff.identifierChanged) lines.push(`~ identifier fields: [${diff.identifierChanged.from.join(', ')}] → [${diff.identifierChanged.to.join(', ')}]`);
    if (diff.partitionSpecChanged) lines.push(`~ partition spec: ${diff.partitionSpecChanged.from} → ${diff.partitionSpecChanged.to}`);
    io.out(lines.length ? lines.join('\n') : 'no schema changes');
  },
};

/**
 * A diff endpoint: a snapshot id, or the name of a tag or branch (its snapshot). A Paimon tag or
 * branch gives its snapshot id, which the diff then reads from the table's snapshot/ folder.
 */
async function snapshotOrRef(root: string, storage: StoragePort, what: 'from' | 'to', text: string): Promise<bigint> {
  if (/^\d+$/.test(text)) return BigInt(text);
  let refs: Record<string, { snapshotId: bigint }>;
  if (await isPaimonRoot(root, storage)) {
    refs = {};
    for (const name of [...(await listPaimonTagNames(storage, root)), ...(await listPaimonBranches(storage, root))]) {
      const snap = await resolvePaimonSnapshot(storage, root, { ref: name });
      if (snap && !refs[name]) refs[name] = { snapshotId: snap.id };
    }
  } else {
    refs = (await loadTable(storage, root)).metadata.refs;
  }
  const ref = refs[text];
  if (!ref) {
    const known = Object.keys(refs).join(', ') || 'none';
    throw new TidemarkError('InvalidInput', `diff: <${what}> expects a snapshot id or a tag or branch name, found ${JSON.stringify(text)} (refs of the table: ${known})`);
  }
  return ref.snapshotId;
}

export const diffCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      'diff',
      argv,
      { ...REMOTE_OPTIONS, key: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
      { min: 3, max: 3, names: ['table', 'from', 'to'] },
    );
    const { root, storage } = await lakeLocation(positionals[0], values);
    const [from, to] = [await snapshotOrRef(root, storage, 'from', positionals[1]!), await snapshotOrRef(root, storage, 'to', positionals[2]!)];
    if (values.limit !== undefined && !/^\d+$/.test(values.limit)) throw new TidemarkError('InvalidInput', `diff: --limit expects a non-negative integer, found ${JSON.stringify(values.limit)}`);
    const key = values.key?.split(',').map((k) => k.trim()).filter(Boolean);
    const diff = await withEngine(storage, async (engine) =>
      diffRows(engine, await openTableSource(engine, root), from, to, { key, limit: values.limit === undefined ? undefined : Number(values.limit) }),
    );
    if (values.json) {
      io.out(JSON.stringify(toWire(diff), null, 2));
      return;
    }
    const lines = [`key: ${diff.key.length ? diff.key.join(', ') : '(whole row)'}`, `added ${diff.addedCount}, removed ${diff.removedCount}, changed ${diff.changedCount}`];
    for (const r of diff.added) lines.push(`+ ${JSON.stringify(toWire(r))}`);
    for (const r of diff.removed) lines.push(`- ${JSON.stringify(toWire(r))}`);
    for (const c of diff.changed) {
      lines.push(`~ ${JSON.stringify(toWire(c.key))}: ${c.changedColumns.map((n) => `${n}: ${JSON.stringify(toWire(c.before[n]))} → ${JSON.stringify(toWire(c.after[n]))}`).join(', ')}`);
    }
    io.out(lines.join('\n'));
  },
};

export const historyCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('history', argv, { ...REMOTE_OPTIONS, key: { type: 'string' }, json: { type: 'boolean' } }, { min: 1, max: 1, names: ['table'] });
    if (!values.key) throw new TidemarkError('InvalidInput', 'history: missing --key col=value');
    const key = parseKeyFilter(values.key);
    const { root, storage } = await lakeLocation(positionals[0], values);
    const history = await withEngine(storage, async (engine) => readKeyHistory(engine, await openTableSource(engine, root), key));
    if (values.json) {
      io.out(JSON.stringify(toWire(history), null, 2));
      return;
    }
    if (history.length === 0) {
      io.out(`no row with ${values.key} in any retained snapshot`);
      return;
    }
    for (const h of history) {
      const source = Object.keys(h.source).length ? ` source ${Object.entries(h.source).map(([k, v]) => `${k.replace(/^tidemark\./, '')}=${v}`).join(' ')}` : '';
      const changed = h.changedColumns.length ? ` changed ${h.changedColumns.join(',')}` : '';
      io.out(`${h.snapshotId} ${new Date(h.timestampMs).toISOString()} ${h.operation.padEnd(9)} ${h.status.padEnd(9)} ${h.rows.map((r) => JSON.stringify(toWire(r))).join(' ')}${changed}${source}`);
    }
  },
};

export const statsCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('stats', argv, { ...REMOTE_OPTIONS, ...SELECTOR_OPTIONS, json: { type: 'boolean' } }, { min: 1, max: 1, names: ['table'] });
    const { root, storage } = await lakeLocation(positionals[0], values);
    const stats = await withEngine(storage, async (engine) => readVersionStats(engine, await engine.loadTable(root), parseSelector('stats', values)));
    if (values.json) {
      io.out(JSON.stringify(toWire(stats), null, 2));
      return;
    }
    io.out(
      formatTable(
        ['column', 'type', 'count', 'nulls', 'min', 'max', 'distinct≈'],
        stats.map((s) => ({ column: s.name, type: s.type, count: s.count, nulls: s.nulls, min: s.min, max: s.max, 'distinct≈': s.approxDistinct })),
      ),
    );
  },
};

export const exportCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('export', argv, { ...REMOTE_OPTIONS, ...SELECTOR_OPTIONS, to: { type: 'string' } }, { min: 1, max: 1, names: ['table'] });
    if (!values.to) throw new TidemarkError('InvalidInput', 'export: missing --to <file.parquet|file.csv>');
    const to = resolve(values.to);
    const kind = to.endsWith('.parquet') ? 'parquet' : to.endsWith('.csv') ? 'csv' : null;
    if (!kind) throw new TidemarkError('InvalidInput', `export: --to must end in .parquet or .csv, found ${JSON.stringify(values.to)}`);
    const { root, storage } = await lakeLocation(positionals[0], values);
    const rows = await withEngine(storage, async (engine) => {
      const { view } = await engine.registerView(await engine.loadTable(root), parseSelector('export', values));
      const sql = `SELECT * FROM ${quoteIdent(view)}`;
      if (kind === 'parquet') {
        await writeFile(to, await exportParquet(engine.session, parquet, sql));
        return (await engine.query(`SELECT count(*) FROM ${quoteIdent(view)}`)).rows[0]![0];
      }
      const result = await engine.query(sql);
      await writeFile(to, formatCsv(result));
      return result.rows.length;
    });
    io.out(`wrote ${rows} rows to ${to}`);
  },
};
