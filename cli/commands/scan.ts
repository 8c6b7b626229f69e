import { TidemarkError } from '../../core/errors';
import * as parquet from 'parquet-wasm';
import { scanRows } from '../../core/lake';
import { createLazyReader } from '../../core/query/pages/reader';
import { parseCommandArgs, type CliRunner } from '../command';
import { formatCsv } from '../../core/query/export';
import { formatTable, isPaimonRoot, lakeLocation, paimonSelectorOf, parseSelector, SELECTOR_OPTIONS, toWire, REMOTE_OPTIONS } from './lake-args';
import { countPaimonRows, scanPaimonRows } from '../../core/lake/paimon';

export const scanCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      'scan',
      argv,
      { ...REMOTE_OPTIONS, ...SELECTOR_OPTIONS, columns: { type: 'string' }, limit: { type: 'string' }, format: { type: 'string' } },
      { min: 1, max: 1, names: ['table'] },
    );
    const format = values.format ?? 'table';
    if (!['json', 'csv', 'table'].includes(format)) throw new TidemarkError('InvalidInput', `scan: --format expects json, csv or table, found ${JSON.stringify(format)}`);
    let limit: number | undefined;
    if (values.limit !== undefined) {
      if (!/^\d+$/.test(values.limit)) throw new TidemarkError('InvalidInput', `scan: --limit expects a non-negative integer, found ${JSON.stringify(values.limit)}`);
      limit = Number(values.limit);
    }
    const columnsArg = values.columns?.split(',').map((c) => c.trim()).filter(Boolean);
    const { root, storage } = await lakeLocation(positionals[0], values);
    const sel = parseSelector('scan', values);
    const result = (await isPaimonRoot(root, storage))
      ? await scanPaimonRows(storage, root, { ...paimonSelectorOf(sel), columns: columnsArg, limit })
      : await scanRows(storage, root, { ...sel, columns: columnsArg, limit });
    const names = result.columns.map((c) => c.name);
    if (format === 'json') io.out(JSON.stringify(result.rows.map((r) => toWire(r)), null, 2));
    // Values go to the wire form first (bigint → decimal, bytes → hex) so CSV matches the JSON output.
    else if (format === 'csv') io.out(formatCsv({ columns: names.map((name) => ({ name, type: '' })), rows: result.rows.map((r) => names.map((n) => toWire(r[n]))) }).trimEnd());
    else io.out(formatTable(names, result.rows));
  },
};

export const countCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('count', argv, { ...REMOTE_OPTIONS, ...SELECTOR_OPTIONS }, { min: 1, max: 1, names: ['table'] });
    const { root, storage } = await lakeLocation(positionals[0], values);
    const sel = parseSelector('count', values);
    // Iceberg: manifests when no delete applies; else positions and equality key columns only (no DuckDB).
    const n = (await isPaimonRoot(root, storage)) ? await countPaimonRows(storage, root, paimonSelectorOf(sel)) : await createLazyReader({ parquet, storage }).count(root, sel);
    io.out(String(n));
  },
};
