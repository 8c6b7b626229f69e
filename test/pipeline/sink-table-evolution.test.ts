/**
 * Targets that change under a running pipeline's configuration (issue 23): a partition.key changed
 * on an existing target evolves its partition spec on the next sync (spec "Partition Evolution":
 * old files keep their spec, new ones use the new one); tidemark.remove-orphans.older-than deletes
 * a crashed run's stray files and nothing else; compaction keeps the rows.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTable, planScan, scanRows } from '../../core/lake';
import { loadPipelineConfig, runPipeline, validatePipeline } from '../../core/pipeline';
import { createLocalStorage } from '../../core/storage/node/index';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { sourceYaml } from './run-helpers';

const storage = createLocalStorage();
let db: PrivateMariaDb;
let conn: mysql.Connection;
let warehouse: string;

beforeAll(async () => {
  db = await startPrivateMariaDb();
  conn = await mysql.createConnection({ ...db.rootConfig(), multipleStatements: true });
  warehouse = await mkdtemp(join(tmpdir(), 'tidemark-part-evo-'));
});
afterAll(async () => {
  await conn?.end();
  await db?.stop();
  await rm(warehouse, { recursive: true, force: true });
});

function config(partitionKey: string | null, sinkExtra = '') {
  const yaml = `${sourceYaml(db, 'pe\\.events')}sink:
  type: iceberg
  catalog.properties.type: hadoop
  catalog.properties.warehouse: ${warehouse}
${partitionKey ? `  partition.key: pe.events:${partitionKey}\n` : ''}${sinkExtra}pipeline:
  name: pe
  execution.checkpointing.interval: 200ms
`;
  return loadPipelineConfig(yaml, { fileName: 'pe.yaml', env: { DB_PASS: db.password } }).config;
}

const specOf = async () => {
  const m = (await loadTable(storage, join(warehouse, 'pe', 'events'))).metadata;
  const schema = m.schemas.find((s) => s.schemaId === m.currentSchemaId)!;
  return m.partitionSpecs.find((s) => s.specId === m.defaultSpecId)!.fields.map((f) => `${f.transform}(${schema.fields.find((c) => c.id === f.sourceId)!.name})`);
};

describe('partition.key changed on an existing table', () => {
  it('evolves the spec on the next sync; old files keep theirs; rows equal the source', async () => {
    await conn.query("CREATE DATABASE pe; CREATE TABLE pe.events (id INT PRIMARY KEY, kind VARCHAR(8) NOT NULL, ts DATETIME NOT NULL)");
    await conn.query(`INSERT INTO pe.events VALUES ${Array.from({ length: 20 }, (_, i) => `(${i + 1}, '${i % 2 ? 'a' : 'b'}', '2024-05-0${1 + (i % 3)} 10:00:00')`).join(',')}`);
    await runPipeline({ config: config(null), untilCaughtUp: true });
    expect(await specOf()).toEqual([]);

    await conn.query(`INSERT INTO pe.events VALUES ${Array.from({ length: 10 }, (_, i) => `(${i + 101}, 'c', '2024-06-0${1 + (i % 2)} 10:00:00')`).join(',')}`);
    await runPipeline({ config: config('kind,day(ts)'), untilCaughtUp: true });
    expect(await specOf()).toEqual(['identity(kind)', 'day(ts)']);
    const files = (await planScan(storage, join(warehouse, 'pe', 'events'))).files;
    const bySpec = new Map<number, number>();
    for (const f of files) bySpec.set(f.specId, (bySpec.get(f.specId) ?? 0) + f.recordCount);
    expect([...bySpec.entries()].sort()).toEqual([[0, 20], [1, 10]]);
    expect(files.filter((f) => f.specId === 1).every((f) => f.partition[0] === 'c')).toBe(true);

    // The same key again: no further spec, no metadata version beyond the sync's own commits.
    const specs = (await loadTable(storage, join(warehouse, 'pe', 'events'))).metadata.partitionSpecs.length;
    await runPipeline({ config: config('kind,day(ts)'), untilCaughtUp: true });
    expect((await loadTable(storage, join(warehouse, 'pe', 'events'))).metadata.partitionSpecs.length).toBe(specs);

    const [src] = await conn.query<mysql.RowDataPacket[]>('SELECT id, kind FROM pe.events ORDER BY id');
    const lake = (await scanRows(storage, join(warehouse, 'pe', 'events'))).rows.map((r) => `${r.id}:${r.kind}`).sort();
    expect(lake).toEqual(src.map((r) => `${r.id}:${r.kind}`).sort());
  });

  it('removes stray files older than tidemark.remove-orphans.older-than and compacts; rows unchanged', async () => {
    const root = join(warehouse, 'pe', 'events');
    const stray = join(root, 'data', 'crashed-writer.parquet');
    const young = join(root, 'data', 'in-flight.parquet');
    await writeFile(stray, 'left by a crashed run');
    await writeFile(young, 'a commit in flight');
    const weekAgo = new Date(Date.now() - 7 * 24 * 3600 * 1000);
    await utimes(stray, weekAgo, weekAgo);
    await conn.query("INSERT INTO pe.events VALUES (500, 'c', '2024-06-03 10:00:00'); UPDATE pe.events SET kind = 'd' WHERE id = 1");
    const before = (await loadTable(storage, root)).metadata.snapshots.length;
    await runPipeline({ config: config('kind,day(ts)', '  tidemark.remove-orphans.older-than: 1d\n  sink.compaction.enabled: true\n  sink.compaction.commit.interval: 1\n'), untilCaughtUp: true });
    expect(existsSync(stray)).toBe(false);
    expect(existsSync(young)).toBe(true);
    const m = (await loadTable(storage, root)).metadata;
    expect(m.snapshots.slice(before).map((s) => s.summary.operation)).toContain('replace');
    expect((await planScan(storage, root)).deleteFiles).toEqual([]);
    const [src] = await conn.query<mysql.RowDataPacket[]>('SELECT id, kind FROM pe.events ORDER BY id');
    const lake = (await scanRows(storage, root)).rows.map((r) => `${r.id}:${r.kind}`).sort();
    expect(lake).toEqual(src.map((r) => `${r.id}:${r.kind}`).sort());
  });

  it("a transform rule's table-options become properties of the table it creates (over table.properties.*)", async () => {
    await conn.query("CREATE TABLE pe.opts (id INT PRIMARY KEY, v VARCHAR(8)); INSERT INTO pe.opts VALUES (1, 'a')");
    const yaml = `${sourceYaml(db, 'pe\\.opts')}sink:
  type: iceberg
  catalog.properties.type: hadoop
  catalog.properties.warehouse: ${warehouse}
  table.properties.write.target-file-size-bytes: 1000
  table.properties.comment: from-sink
transform:
  - source-table: pe.opts
    projection: id, v
    table-options: write.target-file-size-bytes=1048576,owner=ops
pipeline:
  name: opts
  execution.checkpointing.interval: 200ms
`;
    await runPipeline({ config: loadPipelineConfig(yaml, { fileName: 'opts.yaml', env: { DB_PASS: db.password } }).config, untilCaughtUp: true });
    const props = (await loadTable(storage, join(warehouse, 'pe', 'opts'))).metadata.properties;
    expect(props).toMatchObject({ 'write.target-file-size-bytes': '1048576', owner: 'ops', comment: 'from-sink' });
  });

  it('table.properties.format-version: 3 creates v3 targets with row lineage; its compaction keeps each _row_id', async () => {
    await conn.query("CREATE TABLE pe.v3 (id INT PRIMARY KEY, v VARCHAR(8)); INSERT INTO pe.v3 VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    const yaml = (extra: string) => `${sourceYaml(db, 'pe\\.v3')}sink:
  type: iceberg
  catalog.properties.type: hadoop
  catalog.properties.warehouse: ${warehouse}
  table.properties.format-version: 3
${extra}pipeline:
  name: v3
  execution.checkpointing.interval: 200ms
`;
    const compacting = '  sink.compaction.enabled: true\n  sink.compaction.commit.interval: 1\n';
    expect(validatePipeline(yaml(compacting), { fileName: 'v3.yaml', env: { DB_PASS: db.password } }).errors).toEqual([]);
    const config = loadPipelineConfig(yaml(''), { fileName: 'v3.yaml', env: { DB_PASS: db.password } }).config;
    await runPipeline({ config, untilCaughtUp: true });
    await conn.query("UPDATE pe.v3 SET v = 'B' WHERE id = 2; DELETE FROM pe.v3 WHERE id = 3; INSERT INTO pe.v3 VALUES (4, 'd')");
    await runPipeline({ config, untilCaughtUp: true });
    const root = join(warehouse, 'pe', 'v3');
    const m = (await loadTable(storage, root)).metadata;
    expect(m.formatVersion).toBe(3);
    expect(m.properties['format-version']).toBeUndefined();
    const added = m.snapshots.reduce((n, sn) => n + (sn.addedRows ?? 0n), 0n);
    expect(m.nextRowId).toBe(added);
    const { rows } = await scanRows(storage, root, { columns: ['id', 'v', '_row_id'] });
    expect(rows.map((r) => `${r.id}:${r.v}`).sort()).toEqual(['1:a', '2:B', '4:d']);
    const ids = rows.map((r) => r._row_id as bigint);
    expect(ids.every((id) => id !== null && id >= 0n && id < added)).toBe(true);
    expect(new Set(ids).size).toBe(3);

    // The sink's own compaction (every commit here) rewrites the table; each row keeps its lineage.
    const lineage = async () => (await scanRows(storage, root, { columns: ['id', 'v', '_row_id', '_last_updated_sequence_number'] })).rows.map((r) => `${r.id}:${r.v}:${r._row_id}:${r._last_updated_sequence_number}`).sort();
    const before = await lineage();
    await conn.query("INSERT INTO pe.v3 VALUES (5, 'e')");
    await runPipeline({ config: loadPipelineConfig(yaml(compacting), { fileName: 'v3.yaml', env: { DB_PASS: db.password } }).config, untilCaughtUp: true });
    const after = (await loadTable(storage, root)).metadata;
    expect(after.snapshots.at(-1)!.summary.operation).toBe('replace');
    const rowsAfter = await lineage();
    expect(rowsAfter.filter((r) => !r.startsWith('5:'))).toEqual(before);
    const appended = after.snapshots.find((sn) => sn.summary.operation !== 'replace' && sn.sequenceNumber > m.lastSequenceNumber)!;
    expect(rowsAfter.filter((r) => r.startsWith('5:'))).toEqual([`5:e:${appended.firstRowId}:${appended.sequenceNumber}`]);
  });
});
