import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTable, readManifestList, selectSnapshot, type Row } from '../../core/lake';
import { createDemoWarehouse, currentSchema, encodeManifest, encodeManifestList, seededWriteEnv } from '../../core/lake/write';
import { writeDataFiles } from '../../core/lake/write/data-files';
import { createLocalStorage } from '../../core/storage/node';

/** The demo lake, written once per test file by Tidemark's own writer, copied per test. */
export async function makeDemoSource(): Promise<{ dir: string; dispose(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-restcat-src-'));
  await createDemoWarehouse(dir, 7);
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export function copyWarehouse(source: string, name = 'lake'): { warehouse: string; dispose(): void } {
  const base = mkdtempSync(join(tmpdir(), 'tidemark-restcat-'));
  const warehouse = join(base, name);
  cpSync(source, warehouse, { recursive: true });
  return { warehouse, dispose: () => rmSync(base, { recursive: true, force: true }) };
}

/**
 * What an engine does before it commits an append through a REST catalog: data files (Tidemark's
 * Parquet writer), a data manifest, and a manifest list carrying the current snapshot's manifests
 * forward, written into the table's folders. Returns the `add-snapshot` snapshot JSON.
 */
export async function stageAppend(root: string, rows: Row[], snapshotId: bigint, seed: number): Promise<{ snapshot: Record<string, unknown>; parent: bigint | null }> {
  const storage = createLocalStorage();
  const env = seededWriteEnv(seed);
  const base = await loadTable(storage, root);
  const m = base.metadata;
  const schema = currentSchema(m);
  const spec = m.partitionSpecs.find((s) => s.specId === m.defaultSpecId)!;
  const parent = selectSnapshot(m);
  const sequenceNumber = m.lastSequenceNumber + 1n;
  const files = await writeDataFiles({ root, schema, spec, env }, rows);
  const entries = files.map((dataFile) => ({ status: 1 as const, snapshotId, sequenceNumber, fileSequenceNumber: sequenceNumber, dataFile }));
  const manifestBytes = await encodeManifest(entries, spec, schema, 'data');
  const manifestPath = join(root, 'metadata', `${env.uuid()}-m0.avro`);
  await writeFile(manifestPath, manifestBytes);
  const carried = parent ? await readManifestList(await storage.readFile(base.resolve(parent.manifestList)), parent.manifestList) : [];
  const added = files.reduce((a, f) => a + f.recordCount, 0);
  const manifests = [
    {
      manifestPath,
      manifestLength: manifestBytes.length,
      partitionSpecId: spec.specId,
      content: 0 as const,
      sequenceNumber,
      minSequenceNumber: sequenceNumber,
      addedSnapshotId: snapshotId,
      addedFilesCount: files.length,
      existingFilesCount: 0,
      deletedFilesCount: 0,
      addedRowsCount: added,
      existingRowsCount: 0,
      deletedRowsCount: 0,
      partitions: null,
    },
    ...carried,
  ];
  const listPath = join(root, 'metadata', `snap-${snapshotId}-1-${env.uuid()}.avro`);
  await writeFile(listPath, await encodeManifestList(manifests, snapshotId, parent?.snapshotId ?? null, sequenceNumber));
  const totalBefore = Number(parent?.summary['total-records'] ?? 0);
  const snapshot: Record<string, unknown> = {
    'snapshot-id': snapshotId,
    'sequence-number': sequenceNumber,
    'timestamp-ms': Date.UTC(2025, 0, 1) + seed,
    'manifest-list': listPath,
    summary: { operation: 'append', 'added-data-files': String(files.length), 'added-records': String(added), 'total-records': String(totalBefore + added) },
    'schema-id': schema.schemaId,
  };
  if (parent) snapshot['parent-snapshot-id'] = parent.snapshotId;
  return { snapshot, parent: parent?.snapshotId ?? null };
}
