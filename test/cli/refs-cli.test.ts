/**
 * The auditor's workflow from the command line: tag the state at a close date, commit on, diff
 * the tag against today, query the tag by name in SQL; then rollback, branch and cherry-pick.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main';
import { loadTable } from '../../core/lake';
import { appendRows, applyRowDelta, createTable, seededWriteEnv } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node/index';

const work = mkdtempSync(join(tmpdir(), 'tidemark-refs-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out: out.trim(), err: err.trim() };
}

describe('tidemark tag / branch / rollback / cherry-pick', () => {
  it('tag at close, diff the tag against today, SQL by tag name, rollback, branch, cherry-pick', async () => {
    const root = join(work, 'fin', 'ledger');
    const env = seededWriteEnv(5);
    await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'amount', type: 'long' }], identifierColumns: ['id'], env });
    await appendRows(root, [{ id: 1n, amount: 10n }, { id: 2n, amount: 20n }], { env });
    const close = (await loadTable(createLocalStorage(), root)).metadata.currentSnapshotId!;
    expect(await cli('tag', root, 'q4-close')).toEqual({ code: 0, out: `tag q4-close → ${close} (created)`, err: '' });

    await applyRowDelta(root, { upserts: [{ id: 2n, amount: 25n }], inserts: [{ id: 3n, amount: 30n }] }, { env });
    const diff = JSON.parse((await cli('diff', root, 'q4-close', 'main', '--json')).out) as { addedCount: number; changedCount: number; removedCount: number };
    expect(diff).toMatchObject({ addedCount: 1, changedCount: 1, removedCount: 0 });
    const q = await cli('query', work, "SELECT sum(amount) AS s FROM fin.ledger FOR VERSION AS OF 'q4-close'", '--format', 'json');
    expect(JSON.parse(q.out)).toEqual([{ s: '30' }]);

    const bad = await cli('diff', root, 'q3-close', 'main');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toBe('error[InvalidInput]: diff: <from> expects a snapshot id or a tag or branch name, found "q3-close" (refs of the table: main, q4-close)');

    // Roll main back to the close; the later snapshot stays in the table's history.
    const later = (await loadTable(createLocalStorage(), root)).metadata.currentSnapshotId!;
    expect((await cli('rollback', root, close.toString())).out).toBe(`branch main → ${close} (was ${later})`);
    expect((await cli('count', root)).out).toBe('2');
    // A branch at the close, and the later commit cherry-picked onto it: a fast-forward.
    expect((await cli('branch', root, 'restate', '--snapshot', close.toString())).out).toBe(`branch restate → ${close} (created)`);
    expect((await cli('cherry-pick', root, later.toString(), '--branch', 'restate')).out).toBe(`branch restate → ${later} (was ${close}, fast-forward)`);
    expect((await cli('count', root, '--ref', 'restate')).out).toBe('3');
    expect((await cli('branch', root, 'restate', '--delete')).out).toBe(`branch restate removed (was ${later})`);
    expect((await cli('tag', root, 'q4-close', '--delete', '--snapshot', '1')).err).toBe('error[InvalidInput]: tag: use either --snapshot or --delete');
    const snaps = JSON.parse((await cli('snapshots', root, '--json')).out) as unknown[];
    expect(snaps).toHaveLength(2);
  });
});
