/**
 * Preflight against MySQL 5.7 and 8.0 as their manuals describe them: no MySQL server is available
 * here (README), so a connection stand-in answers the statements preflight sends with MySQL's
 * variables, grants and INFORMATION_SCHEMA rows. The MariaDB side runs against real servers in
 * preflight.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { resolveConfig } from '../../core/cdc/config';
import type { Flavor } from '../../core/cdc/flavor';
import { runPreflightDetailed } from '../../core/cdc/preflight';

/** Answers preflight's statements like a MySQL server with these global variables; records what it was asked. */
function fakeMySql(vars: Record<string, string>) {
  const asked: string[] = [];
  const conn = {
    async query(sql: string) {
      asked.push(sql);
      const rows = (r: object[]) => [r, []];
      if (sql.startsWith('SHOW GLOBAL VARIABLES')) {
        const names = [...sql.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]!);
        return rows(names.filter((n) => n in vars).map((n) => ({ Variable_name: n, Value: vars[n] })));
      }
      if (sql === 'SHOW REPLICAS' || sql === 'SHOW SLAVE HOSTS') return rows([]);
      if (sql.startsWith('SHOW GRANTS')) return rows([{ 'Grants for cdc@%': 'GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `cdc`@`%`' }]);
      if (sql.includes("TABLE_TYPE = 'BASE TABLE'")) return rows([{ db: 'app', t: 'orders', n: 10 }]);
      if (sql.includes('information_schema.COLUMNS')) {
        return rows([
          { db: 'app', t: 'orders', c: 'id', ct: 'int(11)', n: 'NO', p: 1, cs: null },
          { db: 'app', t: 'orders', c: 'note', ct: 'varchar(20)', n: 'YES', p: 2, cs: 'latin1' },
        ]);
      }
      if (sql.includes('KEY_COLUMN_USAGE')) return rows([{ db: 'app', t: 'orders', c: 'id' }]);
      if (sql.includes('TABLE_COLLATION')) return rows([{ db: 'app', t: 'orders', tc: 'latin1_swedish_ci' }]);
      throw new Error(`unexpected statement: ${sql}`);
    },
  };
  return { conn: conn as unknown as mysql.Connection, asked };
}

const config = resolveConfig({ hostname: 'db', username: 'cdc', password: 'x', tables: ['app\\..*'], serverId: 5401 });
const mysql57: Flavor = { kind: 'mysql', version: '5.7.44-log', versionParts: [5, 7, 44] };
const mysql80: Flavor = { kind: 'mysql', version: '8.0.36', versionParts: [8, 0, 36] };
const BASE = { log_bin: 'ON', binlog_format: 'ROW', binlog_row_image: 'FULL', server_id: '1' };

describe('preflight on MySQL (a connection stand-in with MySQL 5.7 / 8.0 answers)', () => {
  it('MySQL 5.7: no binlog_row_metadata, so column names come from the schema history; SHOW SLAVE HOSTS, REPLICATION CLIENT', async () => {
    const { conn, asked } = fakeMySql(BASE);
    const { report, columnsFromHistory, schemas } = await runPreflightDetailed(conn, mysql57, config);
    expect(report.ok).toBe(true);
    expect(columnsFromHistory).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual(['binlog', 'binlog_format', 'binlog_row_image', 'binlog_row_metadata', 'server_id', 'privileges', 'tables', 'primary_keys']);
    expect(report.checks.find((c) => c.name === 'binlog_row_metadata')!.message).toBe(
      'binlog_row_metadata: not on this server (MySQL before 8.0.1): row column names and types come from the schema history',
    );
    expect(report.checks.find((c) => c.name === 'privileges')!.message).toBe('cdc@db:3306 has SELECT, REPLICATION SLAVE, REPLICATION CLIENT');
    expect(asked).toContain('SHOW SLAVE HOSTS');
    expect(asked).not.toContain('SHOW REPLICAS');
    // The schema history starts with the character sets the server reports.
    expect(schemas[0]).toMatchObject({ charset: 'latin1', columns: [{ name: 'id' }, { name: 'note', charset: 'latin1' }] });
    expect(schemas[0]!.columns[0]).not.toHaveProperty('charset');
  });

  it('MySQL 8.0: FULL row metadata required; compressed transactions and partial JSON updates refused, one line each', async () => {
    const { conn, asked } = fakeMySql({ ...BASE, binlog_row_metadata: 'MINIMAL', binlog_transaction_compression: 'ON', binlog_row_value_options: 'PARTIAL_JSON' });
    const { report, columnsFromHistory } = await runPreflightDetailed(conn, mysql80, config);
    expect(report.ok).toBe(false);
    expect(columnsFromHistory).toBe(false);
    const failed = Object.fromEntries(report.checks.filter((c) => !c.ok).map((c) => [c.name, c.message]));
    expect(failed).toEqual({
      binlog_row_metadata:
        'binlog_row_metadata: expected FULL, found MINIMAL; set binlog_row_metadata=FULL (MySQL 8.0.1+, MariaDB 10.5+): without it rows replayed after an ALTER get wrong column names; or name them from the schema history (source option tidemark.row-metadata: schema-history)',
      binlog_transaction_compression:
        'binlog_transaction_compression: expected OFF, found ON; SET GLOBAL binlog_transaction_compression=OFF (compressed transactions cannot be decoded: their rows would be lost)',
      binlog_row_value_options:
        "binlog_row_value_options: expected '', found PARTIAL_JSON; SET GLOBAL binlog_row_value_options='' (partial JSON updates cannot be decoded: those updates would be lost)",
    });
    expect(asked).toContain('SHOW REPLICAS');
  });

  it('MySQL 8.0 configured for CDC passes every check, the two MySQL-only ones included', async () => {
    const { conn } = fakeMySql({ ...BASE, binlog_row_metadata: 'FULL', binlog_transaction_compression: 'OFF', binlog_row_value_options: '' });
    const { report, columnsFromHistory } = await runPreflightDetailed(conn, mysql80, config);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(columnsFromHistory).toBe(false);
    expect(report.checks.map((c) => c.name)).toEqual([
      'binlog', 'binlog_format', 'binlog_row_image', 'binlog_row_metadata', 'binlog_transaction_compression', 'binlog_row_value_options',
      'server_id', 'privileges', 'tables', 'primary_keys',
    ]);
  });
});
