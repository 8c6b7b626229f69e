import { resolve } from 'node:path';
import { TidemarkError } from '../../core/errors';
import { bytesToHex, detectTableFormat, type SnapshotSelector } from '../../core/lake';
import type { StoragePort } from '../../core/storage';
import { createLocalStorage } from '../../core/storage/node';
import { isS3Url } from '../../core/storage/s3/index';
import { storageFor } from '../../core/storage/node/storage-for';

/** Shared flags of the lake read commands: one of --snapshot, --as-of, --ref. */
export const SELECTOR_OPTIONS = {
  snapshot: { type: 'string' },
  'as-of': { type: 'string' },
  ref: { type: 'string' },
} as const;

export function parseSelector(command: string, values: { snapshot?: string; 'as-of'?: string; ref?: string }): SnapshotSelector {
  const sel: SnapshotSelector = {};
  if (values.snapshot !== undefined) {
    if (!/^-?\d+$/.test(values.snapshot)) throw new TidemarkError('InvalidInput', `${command}: --snapshot expects a decimal snapshot id, found ${JSON.stringify(values.snapshot)}`);
    sel.snapshotId = BigInt(values.snapshot);
  }
  if (values['as-of'] !== undefined) sel.asOfTimestampMs = parseIsoTime(command, '--as-of', values['as-of']);
  if (values.ref !== undefined) sel.ref = values.ref;
  if (Object.keys(sel).length > 1) throw new TidemarkError('InvalidInput', `${command}: use only one of --snapshot, --as-of, --ref`);
  return sel;
}

/** An ISO-8601 time flag → ms since the epoch; InvalidInput naming the command, flag and text. */
export function parseIsoTime(command: string, flag: string, text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new TidemarkError('InvalidInput', `${command}: ${flag} expects an ISO-8601 time, found ${JSON.stringify(text)}`);
  return ms;
}

/** Where a read command finds a table or warehouse: its root path and the storage holding it. */
export interface LakeLocation {
  root: string;
  storage: StoragePort;
}

/**
 * A read command's <table> or <warehouse>: a local folder, or `s3://bucket/prefix/…` with the
 * endpoint, region, addressing and credentials from the environment (AWS_ENDPOINT_URL,
 * AWS_REGION, TIDEMARK_S3_PATH_STYLE, AWS_ACCESS_KEY_ID, … — see core/storage/s3/client.ts).
 */
export function lakeLocation(positional: string | undefined): LakeLocation {
  const { path, storage } = storageFor(positional!, { env: process.env });
  return { root: path, storage };
}

/** A writing command's <table>: a local folder (the write path writes to disk only, for now). */
export function tableArg(positional: string | undefined): string {
  if (isS3Url(positional!)) {
    throw new TidemarkError('Unsupported', `${positional}: this command writes to the table, and tables on S3 are read-only for now; the read commands (tables, snapshots, schema, files, scan, count, diff, query, …) accept s3:// paths`, { path: positional! });
  }
  return resolve(positional!);
}

/** Canonical row value → JSON-safe value: bigint → decimal string, bytes → hex. */
export function toWire(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return bytesToHex(value);
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWire(v)]));
  return value;
}

export function formatCell(value: unknown): string {
  const v = toWire(value);
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export function formatTable(columns: string[], rows: Record<string, unknown>[]): string {
  const cells = rows.map((r) => columns.map((c) => (r[c] === null || r[c] === undefined ? 'NULL' : formatCell(r[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join(' | ').trimEnd();
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('-+-'), ...cells.map(line)].join('\n');
}

/** True when the table root is a Paimon table (the lake commands accept both formats). */
export async function isPaimonRoot(root: string, storage: StoragePort = createLocalStorage()): Promise<boolean> {
  return (await detectTableFormat(storage, root)) === 'paimon';
}

export { paimonSelectorOf } from '../../core/app/paimon-service';
