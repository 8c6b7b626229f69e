import { afterAll, describe, expect, it } from 'vitest';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { createMySqlSource } from '../../core/cdc/index';
import { rootConnection, sourceConfig } from './helpers';

describe('preflight (private MariaDB)', () => {
  const servers: PrivateMariaDb[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });

  async function server(extraArgs: string[] = [], binlog = true): Promise<PrivateMariaDb> {
    const db = await startPrivateMariaDb({ extraArgs, binlog });
    servers.push(db);
    const root = await rootConnection(db);
    await root.query('CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY); CREATE TABLE app.nokey (v INT)');
    await root.end();
    return db;
  }

  it('passes on a correctly configured server, one line per check', async () => {
    const db = await server();
    const report = await createMySqlSource(sourceConfig(db, { tables: ['app\\.t'] })).preflight();
    expect(report.ok).toBe(true);
    expect(report.server).toMatch(/^10\.11\.\d+-MariaDB.* at 127\.0\.0\.1:\d+$/);
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
      ['tls', true],
      ['binlog', true],
      ['binlog_format', true],
      ['binlog_row_image', true],
      ['binlog_row_metadata', true],
      ['server_id', true],
      ['privileges', true],
      ['tables', true],
      ['primary_keys', true],
    ]);
    expect(report.checks.every((c) => !c.message.includes('\n'))).toBe(true);
    expect(report.checks[0]!.message).toBe('not encrypted: jdbc.properties.sslMode DISABLED');
    expect(report.tls).toEqual({ encrypted: false, version: null, cipher: null });
  });

  it('names each misconfiguration: format, row image, row metadata, server id, tables, primary keys', async () => {
    const db = await server(['--binlog-format=STATEMENT', '--binlog-row-image=MINIMAL', '--binlog-row-metadata=MINIMAL']);
    const report = await createMySqlSource(sourceConfig(db, { serverId: 1, tables: ['app\\..*'] })).preflight();
    const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
    expect(report.ok).toBe(false);
    expect(byName.binlog!.ok).toBe(true);
    expect(byName.binlog_format!.message).toBe('binlog_format: expected ROW, found STATEMENT; set binlog_format=ROW (SET GLOBAL binlog_format=ROW, and in the server config)');
    expect(byName.binlog_row_image!.message).toBe('binlog_row_image: expected FULL, found MINIMAL; set binlog_row_image=FULL so updates carry whole before/after rows');
    expect(byName.binlog_row_metadata!.message).toMatch(/^binlog_row_metadata: expected FULL, found MINIMAL; .*wrong column names; or name them from the schema history \(source option tidemark.row-metadata: schema-history\)$/);
    // With the schema history naming the columns, MINIMAL is fine (and so is MySQL 5.7's none).
    const history = await createMySqlSource(sourceConfig(db, { tables: ['app\\..*'], rowMetadata: 'schema-history' })).preflight();
    expect(history.checks.find((c) => c.name === 'binlog_row_metadata')).toEqual({
      name: 'binlog_row_metadata',
      ok: true,
      message: 'binlog_row_metadata=MINIMAL, not used: row column names and types come from the schema history (tidemark.row-metadata: schema-history)',
    });
    expect(byName.server_id!.message).toBe("server-id: 1 is the server's own server_id; choose another");
    expect(byName.primary_keys!.message).toBe('primary_keys: no primary key (and no scan.incremental.snapshot.chunk.key-column) on app.nokey');

    const none = await createMySqlSource(sourceConfig(db, { tables: ['nothere\\..*'] })).preflight();
    expect(none.checks.find((c) => c.name === 'tables')!.message).toBe(`tables: no table on 127.0.0.1:${db.port} matches nothere\\..*`);

    await expect(createMySqlSource(sourceConfig(db, { tables: ['app\\..*'] })).start().next()).rejects.toThrowError(
      expect.objectContaining({ code: 'InvalidInput', message: expect.stringMatching(/^preflight failed on .*\n {2}binlog_format: expected ROW, found STATEMENT/) }),
    );
  });

  it('a server without binlog fails the binlog check', async () => {
    const db = await server([], false);
    const report = await createMySqlSource(sourceConfig(db, { tables: ['app\\.t'] })).preflight();
    expect(report.checks[1]).toEqual({ name: 'binlog', ok: false, message: 'log_bin: expected ON, found OFF; start the server with --log-bin' });
  });

  it('rejects a bad table regex and a chunk key outside the primary key as InvalidInput', async () => {
    const db = servers[0]!;
    expect(() => createMySqlSource(sourceConfig(db, { tables: ['app\\.(t'] }))).toThrowError(
      expect.objectContaining({ code: 'InvalidInput', message: expect.stringMatching(/^tables\[0\]: invalid regex "app\\\\.\(t": /) }),
    );
    const report = await createMySqlSource(sourceConfig(db, { tables: ['app\\.t'], chunkKeyColumns: { 'app.t': 'v' } })).preflight();
    expect(report.checks.find((c) => c.name === 'primary_keys')!.message).toBe(
      'scan.incremental.snapshot.chunk.key-column: v is not a primary-key column of app.t (key: id)',
    );
  });
});
