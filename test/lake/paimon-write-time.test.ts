import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitPaimonChanges, createPaimonTable } from '../../core/lake/paimon/write';
import { scanPaimonRows } from '../../core/lake/paimon';
import { createLocalStorage } from '../../core/storage/node/index';
import { TidemarkError } from '../../core/errors';

describe('Paimon TIME columns', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tidemark-paimon-time-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes TIME as milliseconds of the day (Paimon keeps no finer part) and reads it back', async () => {
    const root = join(dir, 't');
    await createPaimonTable(root, { columns: [{ name: 'id', type: 'INT NOT NULL' }, { name: 't', type: 'TIME(3)' }, { name: 't6', type: 'TIME(6)' }], primaryKeys: ['id'], options: { bucket: '1' } });
    await commitPaimonChanges(root, [
      { kind: '+I', row: { id: 1, t: '00:00:00', t6: '23:59:59.999999' } },
      { kind: '+I', row: { id: 2, t: '12:34:56.789', t6: null } },
      { kind: '+I', row: { id: 3, t: 45_296_123_456n, t6: '00:00:00.000500' } },
    ], { commitUser: 'u', commitIdentifier: 1n });
    const { rows } = await scanPaimonRows(createLocalStorage(), root);
    const byId = Object.fromEntries(rows.map((r) => [String(r.id), [r.t, r.t6]]));
    expect(byId).toEqual({ '1': ['00:00:00.000000', '23:59:59.999000'], '2': ['12:34:56.789000', null], '3': ['12:34:56.123000', '00:00:00.000000'] });
  });

  it('refuses a time outside the day (MySQL TIME may be negative or beyond 24 h), naming the column', async () => {
    const root = join(dir, 't');
    await createPaimonTable(root, { columns: [{ name: 'id', type: 'INT NOT NULL' }, { name: 't', type: 'TIME(0)' }], primaryKeys: ['id'], options: { bucket: '1' } });
    await expect(commitPaimonChanges(root, [{ kind: '+I', row: { id: 1, t: 90_000_000_000n } }], { commitUser: 'u', commitIdentifier: 1n })).rejects.toThrow(TidemarkError);
    await expect(commitPaimonChanges(root, [{ kind: '+I', row: { id: 1, t: 90_000_000_000n } }], { commitUser: 'u', commitIdentifier: 1n })).rejects.toThrow(/column t: expected a TIME value/);
  });
});
