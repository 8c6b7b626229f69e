import type { PaimonChange } from '../../../lake/paimon/write';
import { OP_DELETE, OP_UPSERT, toLakeValues, type SealedChanges } from '../buffer';

/**
 * A round's changes as Paimon row changes, in source order, as Flink CDC's Paimon sink writes
 * them: inserts +I, an update -U (before image) then +U (after image) — -D then +U when it changes
 * the key —, a delete -D (before image), a colliding insert +U. The runner buffers an update as a delete and an upsert next to each other.
 */
export function toPaimonChanges(s: SealedChanges): PaimonChange[] {
  toLakeValues(s);
  const columns = s.values as unknown[][];
  const keyIdx = s.key.map((k) => s.columns.indexOf(k));
  const out: PaimonChange[] = new Array(s.count);
  for (let i = 0; i < s.count; i++) {
    const row: Record<string, unknown> = {};
    for (let c = 0; c < s.columns.length; c++) row[s.columns[c]!] = columns[c]![i] ?? null;
    const op = s.ops[i];
    out[i] = { kind: op === OP_DELETE ? (s.ops[i + 1] === OP_UPSERT && sameKey(columns, keyIdx, i, i + 1) ? '-U' : '-D') : op === OP_UPSERT ? '+U' : '+I', row };
  }
  return out;
}

/** Whether changes `a` and `b` have the same key values (lake values: bytes compared by content). */
function sameKey(columns: unknown[][], keyIdx: number[], a: number, b: number): boolean {
  return keyIdx.every((c) => {
    const x = columns[c]![a];
    const y = columns[c]![b];
    if (x instanceof Uint8Array && y instanceof Uint8Array) return x.length === y.length && x.every((v, i) => v === y[i]);
    return x === y;
  });
}

