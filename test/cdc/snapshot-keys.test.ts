/**
 * Snapshot chunks of every key shape (core/cdc/snapshot/chunk-keys.ts): character, binary, temporal and
 * decimal keys, a composite key whose first column is not an integer, and a table without a
 * primary key chunked by scan.incremental.snapshot.chunk.key-column, each under a concurrent
 * writer, and resumed from a mid-snapshot offset that went through its JSON form.
 */
import { describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import type { PrivateMariaDb } from '../support/mariadb';
import { createMySqlSource, decodeOffset, encodeOffset } from '../../core/cdc/index';
import { loadPipelineConfig } from '../../core/pipeline/index';
import { toSourceConfig } from '../../core/pipeline/runner/source';
import type { MySqlSourceConfig } from '../../core/cdc/config';
import type { Row, SourceRecord } from '../../core/cdc/types';
import { applyEvents, changeEvents, collectUntil, sourceConfig, usePrivateMariaDb, waitFor } from './helpers';
import { SHAPES, createShapeTable, renderState, shapeTableState, startShapeWriter, type KeyShape } from './key-shapes';

const ROWS = 3000;
const CHUNK = 250;

function shapeSource(db: PrivateMariaDb, shape: KeyShape, table: string, overrides: Partial<MySqlSourceConfig> = {}) {
  return createMySqlSource(
    sourceConfig(db, {
      tables: [`app\\.${table}`],
      chunkSize: CHUNK,
      ...(shape.chunkKeyColumn ? { chunkKeyColumns: { [`app.${table}`]: shape.chunkKeyColumn } } : {}),
      ...overrides,
    }),
  );
}

const isRead = (r: SourceRecord) => r.kind === 'transaction' && r.batch.events[0]?.op === 'r';

describe('snapshot chunks of any key (private MariaDB)', () => {
  // Every test ends its source's generator after stop() (it.return): the generator's finally closes
  // the source's connections, which an abandoned generator keeps open (151 is the server's limit).
  const server = usePrivateMariaDb(['CREATE DATABASE app']);

  for (const shape of SHAPES) {
    // Read-ahead windows (one consistent snapshot per 4 chunks) for unique keys read in index order.
    const windowed = shape.primaryKey && !shape.primaryKeySql;
    for (const mode of shape.primaryKey ? (['auto', 'high-watermark', ...(windowed ? (['windows'] as const) : [])] as const) : (['auto'] as const)) {
      const watermark = mode === 'windows' ? 'auto' : mode;
      it(`${shape.name} key, ${mode}: chunks of ${CHUNK} rows under a concurrent writer; the stream equals the table`, async () => {
        const table = `w_${shape.name}_${mode.replace('-', '_')}`;
        await createShapeTable(server.root, shape, table);
        const writer = startShapeWriter(server.db, shape, table, 11);
        await waitFor(async () => writer.ops >= 20, 'the writer to get going');
        // Writes placed between each chunk's SELECT and its watermark, on the row at the chunk's
        // lower bound (equal to the last key emitted): updated, then moved to a new key.
        const hookConn = await mysql.createConnection(server.db.rootConfig());
        // Bounds of TIMESTAMP keys are UTC text, as the source's sessions read them.
        await hookConn.query("SET time_zone = '+00:00'");
        let hookWrites = 0;
        let windowChunks = 0;
        const where = shape.keyColumns.map((c) => `${c} = ?`).join(' AND ');
        const afterChunkSelect = async (_t: unknown, bound: unknown, how: 'query' | 'window') => {
          if (how === 'window') windowChunks++;
          if (!Array.isArray(bound)) return;
          const lastKey = shape.bindKey ? shape.bindKey(bound) : bound;
          hookWrites++;
          const moved = 900_000 + hookWrites;
          try {
            await hookConn.query(`UPDATE app.${table} SET v = 'hook', n = n + 1000 WHERE ${where}`, lastKey);
            await hookConn.query(`UPDATE IGNORE app.${table} SET ${shape.keyColumns.map((c, j) => `${c} = ${shape.key(String(moved))[j]}`).join(', ')} WHERE ${where} LIMIT 1`, lastKey);
          } catch (e) {
            // A deadlock with the writer's multi-row update: this write is rolled back by the server.
            if ((e as { errno?: number }).errno !== 1213) throw e;
          }
        };
        const source = shapeSource(server.db, shape, table, { snapshotWatermark: watermark, snapshotWindows: mode === 'windows' ? 'always' : 'never', afterChunkSelect });
        const it = source.start();
        const rs = await collectUntil(it, (all) => all.some((r) => r.kind === 'snapshot-complete'), 60_000);
        const opsDuringSnapshot = writer.ops;
        await writer.stop();
        await server.root.query(`INSERT INTO app.${table} SELECT 999999, ${shape.key('999999').join(', ')}, 'end', 0`);
        await collectUntil(it, (all) => changeEvents(all).some((e) => e.after?.id === 999999), 20_000, rs);
        await source.stop();
        await it.return(undefined);
        await hookConn.end();

        const state = new Map<string, Row>();
        applyEvents(state, changeEvents(rs)); // throws on a duplicate read/insert or a change of a missing row
        expect(renderState(state, shape)).toEqual(await shapeTableState(server.root, shape, table));
        expect(opsDuringSnapshot).toBeGreaterThan(20);
        expect(hookWrites).toBeGreaterThanOrEqual(ROWS / CHUNK - 2);
        expect(windowChunks).toBe(mode === 'windows' ? hookWrites + 1 : 0);
        const snapshotPart = rs.slice(0, rs.findIndex((r) => r.kind === 'snapshot-complete'));
        const reads = snapshotPart.filter(isRead).map((r) => (r.kind === 'transaction' ? r.batch.events.length : 0));
        // Chunked, not read whole: many chunks, none far above the chunk size (a repeating key
        // holds its equal keys together; high watermarks fold the window's inserts in, as many as
        // the writer made meanwhile in the chunk's range: the composite key's new rows all land
        // at the ends of seven ranges).
        expect(reads.length).toBeGreaterThanOrEqual(ROWS / CHUNK - 2);
        const slack = shape.chunkSlack ?? 0;
        expect(Math.max(...reads)).toBeLessThanOrEqual(watermark === 'high-watermark' ? 2 * CHUNK + slack : shape.primaryKey ? CHUNK + slack : CHUNK + 60);
        if (shape.primaryKey && watermark === 'auto' && slack === 0) expect(reads.filter((n) => n === CHUNK).length).toBeGreaterThanOrEqual(ROWS / CHUNK - 2);
        // Each chunk's offset holds its bound, a JSON key tuple.
        const bounds = snapshotPart.flatMap((r) => (isRead(r) && r.kind === 'transaction' ? [r.batch.endOffset.snapshot?.lastKey ?? null] : []));
        expect(JSON.parse(bounds[0]!)).toHaveLength(shape.keyColumns.length);
        const progress = rs.flatMap((r) => (r.kind === 'snapshot-progress' ? [r.progress] : []));
        expect(progress.at(-1)).toMatchObject({ done: true, etaMs: 0 });
      });
    }

    it(`${shape.name} key: a snapshot stopped mid-way resumes from its offset's JSON at the next chunk; no row lost or repeated`, async () => {
      const table = `r_${shape.name}`;
      await createShapeTable(server.root, shape, table);
      const writer = startShapeWriter(server.db, shape, table, 12);
      await waitFor(async () => writer.ops >= 20, 'the writer to get going');
      const first = shapeSource(server.db, shape, table);
      const it1 = first.start();
      const rs1 = await collectUntil(it1, (all) => all.filter(isRead).length >= 4, 60_000);
      await first.stop();
      await it1.return(undefined);
      // Committed: everything up to the third chunk; the fourth (and what followed) is lost with the process.
      const cut = rs1.findIndex((r, i) => isRead(r) && rs1.slice(0, i + 1).filter(isRead).length === 3);
      const committed = rs1.slice(0, cut + 1);
      const saved = encodeOffset((committed[cut] as Extract<SourceRecord, { kind: 'transaction' }>).batch.endOffset);
      const offset = decodeOffset(saved);
      expect(offset.snapshot).toMatchObject({ tableIndex: 0, lastKey: expect.stringMatching(/^\[/) });

      const second = shapeSource(server.db, shape, table);
      const it2 = second.start(offset);
      const rs2 = await collectUntil(it2, (all) => all.some((r) => r.kind === 'snapshot-complete'), 60_000);
      await writer.stop();
      await server.root.query(`INSERT INTO app.${table} SELECT 999999, ${shape.key('999999').join(', ')}, 'end', 0`);
      await collectUntil(it2, (all) => changeEvents(all).some((e) => e.after?.id === 999999), 20_000, rs2);
      await second.stop();
      await it2.return(undefined);

      const state = new Map<string, Row>();
      applyEvents(state, changeEvents(committed));
      applyEvents(state, changeEvents(rs2));
      expect(renderState(state, shape)).toEqual(await shapeTableState(server.root, shape, table));
      // The second run read the rest, not the whole table again.
      const reread = changeEvents(rs2.slice(0, rs2.findIndex((r) => r.kind === 'snapshot-complete'))).filter((e) => e.op === 'r').length;
      expect(reread).toBeLessThan(ROWS - 2 * CHUNK);
    });
  }

  for (const name of ['text_prefix', 'varchar_prefix', 'blob_shared_prefix']) {
    it(`${name} key (a primary key on a prefix): each chunk reads its own rows, never the rest of the table`, async () => {
      const shape = SHAPES.find((s) => s.name === name)!;
      const table = `sorts_${name}`;
      await createShapeTable(server.root, shape, table);
      // Rows the server's handlers stepped through (index and table reads), all sessions.
      const stepped = async () => {
        const [rows] = await server.root.query<mysql.RowDataPacket[]>("SHOW GLOBAL STATUS WHERE Variable_name IN ('Handler_read_next', 'Handler_read_rnd_next', 'Handler_read_key')");
        return rows.reduce((sum, r) => sum + Number(r.Value), 0);
      };
      // The same snapshot in one chunk and in chunks of 100: what chunking adds to the rows read.
      const snapshot = async (chunkSize: number) => {
        const before = await stepped();
        const source = shapeSource(server.db, shape, table, { startupMode: { mode: 'snapshot' }, chunkSize });
        const reads: number[] = [];
        for await (const r of source.start()) if (isRead(r) && r.kind === 'transaction') reads.push(r.batch.events.length);
        return { reads, stepped: (await stepped()) - before };
      };
      const whole = await snapshot(10 * ROWS);
      const chunked = await snapshot(100);
      expect(whole.reads).toEqual([ROWS]);
      expect(chunked.reads.reduce((a, b) => a + b, 0)).toBe(ROWS);
      expect(chunked.reads.length).toBeGreaterThanOrEqual(ROWS / (100 + (shape.chunkSlack ?? 0)));
      // Each chunk reads its bound's rows and its own (2 × ROWS in all, with the prefix groups at
      // the bounds); an ORDER BY of the rest of the table per chunk would read ~ROWS² / 200 = 45000 more.
      expect(chunked.stepped - whole.stepped).toBeLessThanOrEqual(4 * ROWS);
    });
  }

  it('a VARCHAR key on a server slower than the client (each chunk query held 100 ms): auto switches to windows after 64 chunks; the stream equals the table', async () => {
    const shape = SHAPES.find((s) => s.name === 'varchar')!;
    const table = 'slow_varchar';
    await createShapeTable(server.root, shape, table);
    const writer = startShapeWriter(server.db, shape, table, 13);
    await waitFor(async () => writer.ops >= 20, 'the writer to get going');
    const reads: string[] = [];
    const afterChunkSelect = async (_t: unknown, _lastKey: unknown, read: 'query' | 'window') => {
      reads.push(read);
      // Held long enough that the idle share passes serverBound's 12% at the 64th chunk even when
      // the machine is loaded (25 ms switched later under a loaded CI run: ~200 ms of work a chunk).
      if (read === 'query') await new Promise((r) => setTimeout(r, 100));
    };
    const source = shapeSource(server.db, shape, table, { chunkSize: 20, snapshotWindows: 'auto', afterChunkSelect });
    const it = source.start();
    const rs = await collectUntil(it, (all) => all.some((r) => r.kind === 'snapshot-complete'), 60_000);
    await writer.stop();
    await server.root.query(`INSERT INTO app.${table} SELECT 999999, ${shape.key('999999').join(', ')}, 'end', 0`);
    await collectUntil(it, (all) => changeEvents(all).some((e) => e.after?.id === 999999), 20_000, rs);
    await source.stop();
    await it.return(undefined);
    // 64 chunks by query, the one read ahead of the switch, then windows to the end.
    expect(reads.slice(0, 65)).toEqual(Array(65).fill('query'));
    expect(reads.slice(65).length).toBeGreaterThan(50);
    expect(reads.slice(65).every((r) => r === 'window')).toBe(true);
    const state = new Map<string, Row>();
    applyEvents(state, changeEvents(rs));
    expect(renderState(state, shape)).toEqual(await shapeTableState(server.root, shape, table));
  });

  // VARCHAR, and TEXT under a primary key of its 20-character prefix (bounds read unordered).
  const ciKeys = [
    ['VARCHAR(20)', 'k'],
    ['TEXT', 'k(20)'],
  ] as const;
  for (const [type, pk, watermark] of ciKeys.flatMap(([t, k]) => (['auto', 'high-watermark'] as const).map((w) => [t, k, w] as const))) {
    it(`case-insensitive PAD SPACE collation, ${type} key, ${watermark}: the key at each chunk bound changes case and gains or loses a trailing space; no row lost or duplicated`, async () => {
      const table = `ci_${type.replace(/\W/g, '')}_${watermark.replace('-', '_')}`;
      await server.root.query(`CREATE TABLE app.${table} (id INT NOT NULL, k ${type} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL, v VARCHAR(40), n BIGINT NOT NULL, PRIMARY KEY (${pk}), UNIQUE KEY (id))`);
      // Keys in mixed case, so that their byte order is not the collation's ('B1' < 'a2' in bytes).
      await server.root.query(`INSERT INTO app.${table} SELECT seq, CONCAT(IF(seq % 2 = 0, CHAR(65 + seq % 26), CHAR(97 + seq % 26)), seq), CONCAT('v', seq), seq FROM app.seq_1_to_${ROWS}`);
      const hookConn = await mysql.createConnection(server.db.rootConfig());
      let toggled = 0;
      const afterChunkSelect = async (_t: unknown, lastKey: unknown) => {
        if (!Array.isArray(lastKey)) return;
        // The row at the bound: the same key for the collation, other bytes ('x12' -> 'X12 ' -> 'x12').
        const [r] = await hookConn.query<mysql.ResultSetHeader>(
          `UPDATE app.${table} SET k = IF(k LIKE '% ', LOWER(TRIM(k)), CONCAT(UPPER(k), ' ')), v = 'toggled', n = n + 1 WHERE k = ?`,
          lastKey,
        );
        toggled += r.affectedRows;
        // Its neighbour after the bound (in the next chunk): deleted and inserted again in the other case.
        const [next] = await hookConn.query<mysql.RowDataPacket[]>(`SELECT id, k FROM app.${table} WHERE k > ? ORDER BY k LIMIT 1`, lastKey);
        if (next[0]) {
          const k = String(next[0].k);
          await hookConn.query('BEGIN');
          await hookConn.query(`DELETE FROM app.${table} WHERE id = ?`, [next[0].id]);
          await hookConn.query(`INSERT INTO app.${table} VALUES (?, ?, 'reborn', 0)`, [next[0].id, k === k.toUpperCase() ? k.toLowerCase() : k.toUpperCase()]);
          await hookConn.query('COMMIT');
        }
      };
      const source = createMySqlSource(sourceConfig(server.db, { tables: [`app\\.${table}`], chunkSize: CHUNK, snapshotWatermark: watermark, afterChunkSelect }));
      const it = source.start();
      const rs = await collectUntil(it, (all) => all.some((r) => r.kind === 'snapshot-complete'), 60_000);
      await server.root.query(`INSERT INTO app.${table} VALUES (999999, 'end', 'end', 0)`);
      await collectUntil(it, (all) => changeEvents(all).some((e) => e.after?.id === 999999), 20_000, rs);
      await source.stop();
      await it.return(undefined);
      await hookConn.end();
      expect(toggled).toBeGreaterThanOrEqual(ROWS / CHUNK - 2);
      const state = new Map<string, Row>();
      applyEvents(state, changeEvents(rs));
      const [rows] = await server.root.query<mysql.RowDataPacket[]>(`SELECT id, k, v, CAST(n AS CHAR) AS n FROM app.${table}`);
      const expected = new Map(rows.map((r) => [String(r.id), { id: r.id as number, k: String(r.k), v: String(r.v), n: BigInt(r.n as string) }]));
      expect(state).toEqual(expected);
      // Some bounds were stored with a trailing space or changed case and read back exactly.
      expect([...state.values()].some((r) => String(r.k).endsWith(' '))).toBe(true);
    });
  }

  it('a table without a primary key chunked by the pipeline key scan.incremental.snapshot.chunk.key-column (<table-pattern>:<column>)', async () => {
    await server.root.query('CREATE TABLE app.log_1 (id INT NOT NULL, g VARCHAR(20) NOT NULL, v VARCHAR(40), n BIGINT NOT NULL)');
    await server.root.query("INSERT INTO app.log_1 SELECT seq, CONCAT('g', seq DIV 10), CONCAT('v', seq), seq FROM app.seq_1_to_1000");
    const yaml = [
      'source:',
      '  type: mariadb',
      `  hostname: ${server.db.host}`,
      '  username: x',
      '  password: ""',
      '  tables: app.log_\\.*',
      '  scan.incremental.snapshot.chunk.key-column: app.nothing:x; app.log_\\.*:g',
      'sink:',
      '  type: iceberg',
      '  catalog.properties.type: hadoop',
      '  catalog.properties.warehouse: /tmp/unused',
    ].join('\n');
    const fromYaml = toSourceConfig(loadPipelineConfig(yaml, { fileName: 'p.yaml', env: {} }).config);
    expect(fromYaml.chunkKeyColumnPatterns).toEqual([
      { regex: '^(?:app\\.nothing)$', column: 'x' },
      { regex: '^(?:app\\.log_.*)$', column: 'g' },
    ]);
    const source = createMySqlSource(sourceConfig(server.db, { tables: ['app\\.log_1'], chunkSize: 95, chunkKeyColumnPatterns: fromYaml.chunkKeyColumnPatterns!, startupMode: { mode: 'snapshot' } }));
    const all: SourceRecord[] = [];
    for await (const r of source.start()) all.push(r);
    const batches = all.flatMap((r) => (r.kind === 'transaction' ? [r.batch.events.length] : []));
    // Whole groups of ten equal keys per chunk: 95 rows reach into the tenth group.
    expect(batches[0]).toBe(100);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(new Set(changeEvents(all).map((e) => e.after!.id)).size).toBe(1000);
    // Without the key, the table cannot be snapshotted (no primary key).
    const plain = createMySqlSource(sourceConfig(server.db, { tables: ['app\\.log_1'], startupMode: { mode: 'snapshot' } }));
    await expect(plain.start().next()).rejects.toThrow(/primary_keys: no primary key \(and no scan.incremental.snapshot.chunk.key-column\) on app.log_1/);
  });

  it('a table without a primary key chunked by a spatial column that only a SPATIAL index covers is Unsupported, naming the column and the way out', async () => {
    await server.root.query('CREATE TABLE app.places (id INT NOT NULL, p POINT NOT NULL, SPATIAL INDEX (p))');
    await server.root.query("INSERT INTO app.places VALUES (1, ST_GeomFromText('POINT(1 2)')), (2, ST_GeomFromText('POINT(3 4)'))");
    const source = createMySqlSource(sourceConfig(server.db, { tables: ['app\\.places'], chunkKeyColumns: { 'app.places': 'p' }, startupMode: { mode: 'snapshot' } }));
    await expect(source.start().next()).rejects.toMatchObject({
      code: 'Unsupported',
      message:
        'scan.incremental.snapshot.chunk.key-column: app.places.p is point and no B-tree index starts with it (a SPATIAL index follows no order of the values), so every chunk would scan the whole table: add one (ALTER TABLE app.places ADD INDEX (p(32))) or name another NOT NULL column',
    });
  });

  it('a table without a primary key under high watermarks is Unsupported, naming the table (no row identity to fold changes by)', async () => {
    await server.root.query('CREATE TABLE app.nokey_hw (id INT NOT NULL, g VARCHAR(20) NOT NULL)');
    await server.root.query("INSERT INTO app.nokey_hw VALUES (1, 'a'), (2, 'b')");
    const source = createMySqlSource(
      sourceConfig(server.db, { tables: ['app\\.nokey_hw'], chunkKeyColumns: { 'app.nokey_hw': 'g' }, snapshotWatermark: 'high-watermark', startupMode: { mode: 'snapshot' } }),
    );
    const it = source.start();
    await expect(it.next()).rejects.toMatchObject({
      code: 'Unsupported',
      message:
        "app.nokey_hw has no primary key: its snapshot needs MariaDB's consistent-snapshot watermark (a high watermark folds concurrent changes into a chunk by row identity, which a table without a key lacks)",
    });
  });
});
