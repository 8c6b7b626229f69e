import type { ChangeEvent, SourceOffset } from '../../cdc';
import { bytesToHex, stringifyJsonBigint } from '../../lake';
import { formatTimestamp } from '../../lake';

/**
 * The audit changelog: an append-only Iceberg table `<table>__changelog` beside each target, one
 * row per source change routed to the target (snapshot reads included, op `r`), in source order.
 * It keeps every intermediate state the target's deduplicated commits do not.
 */
export const CHANGELOG_SUFFIX = '__changelog';

export const CHANGELOG_COLUMNS = [
  { name: 'op', type: 'string', required: true },
  /** Source row images as JSON objects: 64-bit integers as bare literals, bytes as hex text. */
  { name: 'before', type: 'string', required: false },
  { name: 'after', type: 'string', required: false },
  { name: 'op_ts', type: 'timestamptz', required: false },
  { name: 'binlog_file', type: 'string', required: false },
  { name: 'binlog_pos', type: 'long', required: false },
  { name: 'gtid', type: 'string', required: false },
  { name: 'source_table', type: 'string', required: true },
  /** The target snapshot that made the change visible. */
  { name: 'target_snapshot_id', type: 'long', required: false },
  /** Order of the change within the source stream's commit round (ties: same transaction). */
  { name: 'seq', type: 'long', required: true },
];

export interface PendingChangelogRow {
  event: ChangeEvent;
  offset: SourceOffset;
  gtid: string | null;
  /** False when the target already had this change (replay after a crash): only the changelog lacks it. */
  buffered: boolean;
}

function imageJson(row: Record<string, unknown> | null): string | null {
  if (row === null) return null;
  const plain: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) plain[k] = v instanceof Uint8Array ? bytesToHex(v) : v;
  return stringifyJsonBigint(plain, 0);
}

export function toChangelogRow(p: PendingChangelogRow, seq: bigint, targetSnapshotId: bigint | null): Record<string, unknown> {
  const e = p.event;
  return {
    op: e.op,
    before: imageJson(e.before),
    after: imageJson(e.after),
    op_ts: formatTimestamp(BigInt(e.opTsMs) * 1000n, true),
    binlog_file: p.offset.file,
    binlog_pos: p.offset.pos,
    gtid: p.gtid,
    source_table: `${e.table.db}.${e.table.table}`,
    target_snapshot_id: targetSnapshotId,
    seq,
  };
}
