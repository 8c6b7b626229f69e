/**
 * A filtered plan reads only the data manifests whose partition summaries (manifest list) admit the
 * filter; the files it plans are those of the full plan that the filter admits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planScan, pruneByFilter, type ScanFilter } from '../../core/lake';
import { appendRows, createTable, seededWriteEnv } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node/index';
import type { StoragePort } from '../../core/storage';

const local = createLocalStorage();
const work = mkdtempSync(join(tmpdir(), 'tidemark-manifest-skip-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The local storage, counting the manifest files (…-m<N>.avro) read. */
function counting(): { storage: StoragePort; manifests: string[] } {
  const manifests: string[] = [];
  const storage: StoragePort = {
    ...local,
    readFile: (path) => {
      if (/-m\d+\.avro$/.test(path)) manifests.push(path);
      return local.readFile(path);
    },
  };
  return { storage, manifests };
}

describe('manifest skipping by partition summaries', () => {
  it('reads only the manifests whose partition bounds admit the filter, and plans the same files as pruning the full plan', async () => {
    const root = join(work, 't');
    const env = seededWriteEnv(3);
    await createTable(root, {
      columns: [{ name: 'id', type: 'long', required: true }, { name: 'k', type: 'int' }, { name: 'ts', type: 'timestamp' }, { name: 'name', type: 'string' }],
      identifierColumns: ['id'],
      partitionBy: [{ column: 'k', transform: 'identity' }, { column: 'ts', transform: 'day' }, { column: 'name', transform: 'identity' }],
      env,
    });
    // Five commits (five data manifests): k = c, on day c + 1 of January; the last one also with k null.
    for (let c = 0; c < 5; c++) {
      const rows = Array.from({ length: 4 }, (_, i) => ({ id: BigInt(c * 10 + i), k: c === 4 && i === 3 ? null : c, ts: `2024-01-0${c + 1}T0${i}:00:00.000000`, name: `n${c}` }));
      await appendRows(root, rows, { env });
    }
    const full = await planScan(local, root);
    expect(full.files).toHaveLength(6);
    const cases: [ScanFilter, number][] = [
      [[{ column: 'k', op: '=', value: 3 }], 1],
      [[{ column: 'k', op: '>=', value: 3 }], 2],
      [[{ column: 'k', op: '<', value: 0 }], 0],
      [[{ column: 'k', op: '!=', value: 3 }], 5],
      [[{ column: 'k', op: 'is-null' }], 1],
      // A transform prunes on '=' only: the literal's day.
      [[{ column: 'ts', op: '=', value: '2024-01-02T01:00:00.000000' }], 1],
      [[{ column: 'ts', op: '>', value: '2024-01-04T00:00:00.000000' }], 5],
      // String partitions are never pruned on in the manifest list (bounds may be truncated).
      [[{ column: 'name', op: '=', value: 'n2' }], 5],
      [[{ column: 'k', op: '>', value: 0 }, { column: 'ts', op: '=', value: '2024-01-05T00:00:00.000000' }], 1],
    ];
    for (const [filter, read] of cases) {
      const { storage, manifests } = counting();
      const plan = await planScan(storage, root, { filter });
      expect({ filter, read: manifests.length }).toEqual({ filter, read });
      const expected = full.files.filter((f) => pruneByFilter(full.table.metadata, full.schema, f, filter)).map((f) => f.path).sort();
      expect(plan.files.map((f) => f.path).sort()).toEqual(expected);
    }
  });
});
