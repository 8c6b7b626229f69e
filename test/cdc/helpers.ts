/**
 * Shared helpers of the CDC integration tests: a source config for the private MariaDB, record
 * collection with a deadline (never a sleep), and applying a stream to a key → row map.
 */
import mysql from 'mysql2/promise';
import { afterAll, beforeAll } from 'vitest';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import type { MySqlSourceConfig } from '../../core/cdc/config';
import type { ChangeEvent, Row, SourceRecord } from '../../core/cdc/types';

let nextServerId = 100;

export function sourceConfig(db: PrivateMariaDb, overrides: Partial<MySqlSourceConfig> = {}): MySqlSourceConfig {
  return {
    hostname: db.host,
    port: db.port,
    username: db.user,
    password: db.password,
    tables: ['app\\..*'],
    serverId: nextServerId++,
    heartbeatIntervalMs: 500,
    ...overrides,
  };
}

export async function rootConnection(db: PrivateMariaDb): Promise<mysql.Connection> {
  return await mysql.createConnection({ ...db.rootConfig(), multipleStatements: true });
}

/**
 * A private MariaDB (binlog on) for the enclosing describe block: started before its tests, with
 * `setup` run as root, and stopped after them. Read `db` and `root` inside the tests. `extraArgs`:
 * more server flags (startPrivateMariaDb).
 */
export function usePrivateMariaDb(setup: string[] = [], extraArgs: string[] = []): { readonly db: PrivateMariaDb; root: mysql.Connection } {
  const server = {} as { db: PrivateMariaDb; root: mysql.Connection };
  beforeAll(async () => {
    server.db = await startPrivateMariaDb({ extraArgs });
    server.root = await rootConnection(server.db);
    for (const sql of setup) await server.root.query(sql);
  });
  afterAll(async () => {
    await server.root?.end();
    await server.db?.stop();
  });
  return server;
}

/**
 * Pulls records from `it` until `done(all)` is true; fails after `timeoutMs` naming what arrived.
 * The iterator stays usable for more reads.
 */
export async function collectUntil(
  it: AsyncIterator<SourceRecord>,
  done: (all: SourceRecord[]) => boolean,
  timeoutMs = 20_000,
  into: SourceRecord[] = [],
): Promise<SourceRecord[]> {
  const deadline = Date.now() + timeoutMs;
  while (!done(into)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms with ${into.length} records: ${summarise(into)}`);
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      it.next(),
      new Promise<'timeout'>((res) => {
        timer = setTimeout(() => res('timeout'), left);
      }),
    ]);
    clearTimeout(timer);
    if (r === 'timeout') continue;
    if (r.done) throw new Error(`stream ended with ${into.length} records: ${summarise(into)}`);
    into.push(r.value);
  }
  return into;
}

export function changeEvents(records: SourceRecord[]): ChangeEvent[] {
  return records.flatMap((r) => (r.kind === 'transaction' ? r.batch.events : []));
}

function summarise(records: SourceRecord[]): string {
  const counts: Record<string, number> = {};
  for (const r of records) counts[r.kind] = (counts[r.kind] ?? 0) + (r.kind === 'transaction' ? r.batch.events.length : 1);
  return JSON.stringify(counts);
}

/**
 * Applies change events to a map keyed by `key` (an `id` column), failing on anything a correct
 * stream never produces: an insert or read of a present key, an update or delete of an absent one.
 */
export function applyEvents(state: Map<string, Row>, events: ChangeEvent[], key = 'id'): void {
  for (const e of events) {
    const k = (r: Row | null) => String(r![key]);
    if (e.op === 'c' || e.op === 'r') {
      if (state.has(k(e.after))) throw new Error(`duplicate ${e.op} of key ${k(e.after)}`);
      state.set(k(e.after), e.after!);
    } else if (e.op === 'u') {
      if (!state.has(k(e.before))) throw new Error(`update of missing key ${k(e.before)}`);
      state.delete(k(e.before));
      state.set(k(e.after), e.after!);
    } else {
      if (!state.has(k(e.before))) throw new Error(`delete of missing key ${k(e.before)}`);
      state.delete(k(e.before));
    }
  }
}

/** Polls `check` until it returns true, failing after the deadline (for server-side conditions). */
export async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
