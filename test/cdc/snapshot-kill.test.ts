/**
 * kill -9 of a consumer in the middle of snapshots chunked by non-integer keys: the consumer (a
 * child process, snapshot-kill-child.ts) commits each batch with its offset as one appended line;
 * it is killed mid-snapshot, and a run in this process continues from the last committed offset.
 * The committed stream and the rest must equal the table: no row lost or repeated, the chunk bound
 * (text in mixed case, binary, temporal, decimal, composite, a repeating key) restored exactly
 * from the offset's JSON.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PrivateMariaDb } from '../support/mariadb';
import { createMySqlSource, decodeOffset } from '../../core/cdc/index';
import type { ChangeEvent, Row } from '../../core/cdc/types';
import { applyEvents, changeEvents, collectUntil, sourceConfig, usePrivateMariaDb, waitFor } from './helpers';
import { SHAPES, createShapeTable, renderState, shapeTableState, startShapeWriter } from './key-shapes';
import { decodeRows, type KillJob } from './snapshot-kill-child';

const ROWS = 3000;
const CHUNK = 100;
const CHILD = join(import.meta.dirname, 'snapshot-kill-child.ts');
const work = mkdtempSync(join(tmpdir(), 'tidemark-snapkill-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Committed {
  events: ChangeEvent[];
  offset: string;
}

/** The log's complete lines (a line cut by the kill is not committed). */
function readLog(path: string): Committed[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n');
  lines.pop(); // after the last newline: empty, or a line the kill cut short
  return lines.map((l) => decodeRows(l) as Committed);
}

/** Runs the consumer until it has committed `chunks` more snapshot chunks, then kills it with SIGKILL. */
async function runAndKill(job: KillJob, chunks: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { env: { ...process.env, TIDEMARK_KILL_JOB: JSON.stringify(job) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let reads = 0;
  let out = '';
  let onEnough!: () => void;
  const enough = new Promise<void>((res) => (onEnough = res));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      if (out.slice(0, nl).endsWith(' r') && ++reads === chunks) onEnough();
      out = out.slice(nl + 1);
    }
  });
  const exited = new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_code, signal) => res(signal)));
  await Promise.race([enough, exited]);
  child.kill('SIGKILL');
  const signal = await exited;
  if (signal !== 'SIGKILL') throw new Error(`consumer exited before the kill: ${stderr}`);
}

describe('kill -9 mid-snapshot, any key (private MariaDB)', () => {
  const server = usePrivateMariaDb(['CREATE DATABASE app']);
  let serverId = 7000;

  for (const shape of SHAPES) {
    it(`${shape.name} key: killed mid-snapshot under a concurrent writer, resumed from the committed offset; the stream equals the table`, async () => {
      const table = `k_${shape.name}`;
      await createShapeTable(server.root, shape, table, ROWS);
      const writer = startShapeWriter(server.db, shape, table, 21, ROWS);
      await waitFor(async () => writer.ops >= 20, 'the writer to get going');
      const db = server.db as PrivateMariaDb;
      const log = join(work, `${table}.log`);
      const chunkKeyColumns = shape.chunkKeyColumn ? { [`app.${table}`]: shape.chunkKeyColumn } : undefined;
      const job = (offset: string | null): KillJob => ({
        db: { host: db.host, port: db.port, user: db.user, password: db.password },
        table,
        chunkSize: CHUNK,
        ...(chunkKeyColumns ? { chunkKeyColumns } : {}),
        serverId: serverId++,
        offset,
        log,
      });
      await runAndKill(job(null), 4);
      const committed = readLog(log);
      const offset = decodeOffset(committed.at(-1)!.offset);
      expect(committed.filter((c) => c.events[0]?.op === 'r').length).toBeGreaterThanOrEqual(4);
      expect(offset.snapshot).toMatchObject({ tableIndex: 0, lastKey: expect.stringMatching(/^\[/) });

      const last = createMySqlSource(sourceConfig(db, { tables: [`app\\.${table}`], chunkSize: CHUNK, ...(chunkKeyColumns ? { chunkKeyColumns } : {}) }));
      const it = last.start(offset);
      const rs = await collectUntil(it, (all) => all.some((r) => r.kind === 'snapshot-complete'), 60_000);
      await writer.stop();
      await server.root.query(`INSERT INTO app.${table} SELECT 999999, ${shape.key('999999').join(', ')}, 'end', 0`);
      await collectUntil(it, (all) => changeEvents(all).some((e) => e.after?.id === 999999), 20_000, rs);
      await last.stop();
      await it.return(undefined);

      const state = new Map<string, Row>();
      for (const c of committed) applyEvents(state, c.events);
      applyEvents(state, changeEvents(rs));
      expect(renderState(state, shape)).toEqual(await shapeTableState(server.root, shape, table));
    });
  }
});
