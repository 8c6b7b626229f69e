/**
 * Lake operations on a Paimon table from the command line, on a copy of a table Java Paimon wrote:
 * tag the close, read and query the tag by name, branch, move the tag, roll back (Java's rollback_to
 * deletes the later snapshots and their tags), preview and run expiry and full compaction.
 */
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main';
import { loadTable } from '../../core/lake';
import { appendRows, createTable, seededWriteEnv } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node/index';
import { tableRoot } from '../paimon/helpers';

const work = mkdtempSync(join(tmpdir(), 'tidemark-paimon-ops-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out: out.trim(), err: err.trim() };
}

describe('tidemark tag / branch / rollback / expire / compact on a Paimon table', () => {
  it('tags, branches and rollback follow Java Paimon; cherry-pick is refused naming Paimon', async () => {
    const root = join(work, 'wh', 'fin.db', 'ledger');
    cpSync(tableRoot('pk_table_scan_and_read_mor'), root, { recursive: true });

    expect(await cli('tag', root, 'close', '--snapshot', '2')).toEqual({ code: 0, out: 'tag close → 2 (created)', err: '' });
    expect(existsSync(join(root, 'tag', 'tag-close'))).toBe(true);
    expect((await cli('count', root, '--ref', 'close')).out).toBe('8');
    expect((await cli('count', root)).out).toBe('11');
    const q = await cli('query', join(work, 'wh'), "SELECT count(*) AS n FROM fin.ledger FOR VERSION AS OF 'close'", '--format', 'json');
    expect(JSON.parse(q.out)).toEqual([{ n: '8' }]);
    const diff = JSON.parse((await cli('diff', root, 'close', '5', '--json')).out) as { addedCount: number; removedCount: number };
    expect(diff.addedCount - diff.removedCount).toBe(3);

    expect((await cli('branch', root, 'audit', '--snapshot', '3')).out).toBe('branch audit → 3 (created)');
    expect(existsSync(join(root, 'branch', 'branch-audit', 'snapshot', 'snapshot-3'))).toBe(true);
    expect((await cli('count', root, '--ref', 'audit')).out).toBe((await cli('count', root, '--snapshot', '3')).out);
    const move = await cli('branch', root, 'audit', '--snapshot', '4');
    expect(move.code).toBe(1);
    expect(move.err).toBe(`error[Unsupported]: branch "audit" of the Paimon table ${root} exists, and Paimon branches cannot be moved (Java Paimon has no such operation): delete it and create it again`);
    expect((await cli('tag', root, 'close', '--snapshot', '4')).out).toBe('tag close → 4 (was 2)');
    expect((await cli('tag', root, 'q4', '--json')).out).toBe(JSON.stringify({ name: 'q4', type: 'tag', snapshotId: '5', previousSnapshotId: null }, null, 2));

    const pick = await cli('cherry-pick', root, '4');
    expect(pick.code).toBe(1);
    expect(pick.err).toContain(`error[Unsupported]: cherry-pick: ${root} is a Paimon table, and Paimon has no cherry-pick`);

    const rb = await cli('rollback', root, '3');
    expect(rb.code).toBe(0);
    const [first, second] = rb.out.split('\n');
    expect(first).toBe('branch main → 3 (was 5)');
    expect(second).toMatch(/^deleted snapshot\(s\) 5, 4, tag\(s\) close, q4, \d+ file\(s\)$/);
    const snaps = JSON.parse((await cli('snapshots', root, '--json')).out) as { snapshotId: string }[];
    expect(snaps.map((s) => s.snapshotId)).toEqual(['1', '2', '3']);
    expect((await cli('count', root)).out).toBe((await cli('count', root, '--ref', 'audit')).out);
    const bad = await cli('rollback', root, '7');
    expect(bad).toMatchObject({ code: 3, err: `error[NotFound]: rollback: snapshot 7 not found in ${join(root, 'snapshot')} (snapshots are 1..3)` });

    expect((await cli('branch', root, 'audit', '--delete')).out).toBe('branch audit removed (was 3)');
    // A branch from a tag copies the tag into the branch (Java's createBranch(name, tag)).
    expect((await cli('tag', root, 'base', '--snapshot', '2')).code).toBe(0);
    expect((await cli('branch', root, 'fix', '--tag', 'base')).out).toBe('branch fix → 2 (created)');
    expect(existsSync(join(root, 'branch', 'branch-fix', 'tag', 'tag-base'))).toBe(true);
    expect((await cli('count', root, '--ref', 'fix')).out).toBe('8');
    expect((await cli('tag', root, 'x', '--tag', 'base')).err).toBe('error[InvalidInput]: tag: --tag goes with the branch command (a branch made from a tag)');
    expect((await cli('tag', root, 'gone', '--delete')).code).toBe(3);
  });

  it('expire and compact: the --dry-run preview is what then happens', async () => {
    const root = join(work, 'maint');
    cpSync(tableRoot('pk_table_scan_and_read_mor'), root, { recursive: true });
    expect((await cli('tag', root, 'keep', '--snapshot', '1')).code).toBe(0);
    const rows = (await cli('scan', root, '--format', 'json')).out;

    const preview = JSON.parse((await cli('expire', root, '--retain-last', '2', '--dry-run', '--json')).out) as { expiredSnapshotIds: string[]; files: number; bytes: number; paths: string[]; keptSnapshots: number };
    expect(preview).toMatchObject({ dryRun: true, expiredSnapshotIds: ['1', '2', '3'], keptSnapshots: 2 });
    expect(preview.files).toBe(preview.paths.length);
    expect(preview.paths.every((p) => existsSync(p))).toBe(true);
    const done = JSON.parse((await cli('expire', root, '--retain-last', '2', '--json')).out) as typeof preview;
    expect(done).toMatchObject({ dryRun: false, expiredSnapshotIds: preview.expiredSnapshotIds, files: preview.files, bytes: preview.bytes, paths: preview.paths, keptSnapshots: 2 });
    expect(preview.paths.some((p) => existsSync(p))).toBe(false);
    // The tag keeps snapshot 1's files: it still reads.
    expect((await cli('count', root, '--ref', 'keep')).out).toBe('9');
    expect((await cli('expire', root, '--retain-last', '2')).out).toBe('nothing to expire');

    const plan = JSON.parse((await cli('compact', root, '--dry-run', '--json')).out) as { files: number; bytes: number; records: number; partitions: number; estimatedFiles: number };
    expect(plan.files).toBeGreaterThan(1);
    const text = (await cli('compact', root, '--dry-run')).out;
    expect(text).toBe(`would rewrite ${plan.files} data file(s), ${plan.bytes} bytes, ${plan.records} records in ${plan.partitions} partition(s) into ${plan.estimatedFiles} file(s), one per bucket and 65,536 rows`);
    const run = JSON.parse((await cli('compact', root, '--json')).out) as typeof plan & { committedSnapshotId: string; writtenFiles: number; liveRecords: number };
    expect(run).toMatchObject({ files: plan.files, bytes: plan.bytes, records: plan.records, committedSnapshotId: '6', writtenFiles: plan.estimatedFiles, liveRecords: 11 });
    expect((await cli('scan', root, '--format', 'json')).out).toBe(rows);
    expect((await cli('compact', root, '--dry-run')).out).toBe('nothing to compact');
    const small = await cli('compact', root, '--small');
    expect(small.err).toBe(`error[Unsupported]: compaction of small files only is Iceberg's; a Paimon table (${root}) is compacted whole (full compaction of every bucket)`);

    // After expiry and compaction, the one file nothing names is the planted one; --older-than is ahead of every file here.
    const orphan = join(root, 'manifest', 'manifest-00000000-dead-beef-0000-000000000000-0');
    writeFileSync(orphan, 'orphan');
    const future = new Date(Date.now() + 86_400_000).toISOString();
    expect(await cli('remove-orphans', root, '--older-than', future, '--dry-run')).toEqual({ code: 0, out: `would remove ${orphan} (6 bytes)\n1 orphan file(s), 6 bytes (dry run: nothing removed)`, err: '' });
    expect(existsSync(orphan)).toBe(true);
    expect(await cli('remove-orphans', root, '--older-than', future)).toEqual({ code: 0, out: `removed ${orphan} (6 bytes)\nremoved 1 orphan file(s), 6 bytes`, err: '' });
    expect(existsSync(orphan)).toBe(false);
    expect((await cli('remove-orphans', root, '--older-than', future)).out).toBe('no orphan files');
    expect((await cli('scan', root, '--format', 'json')).out).toBe(rows);
  });

  it('expire --dry-run previews an Iceberg table too, and changes nothing', async () => {
    const root = join(work, 'ice');
    const env = seededWriteEnv(3);
    await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }], env });
    for (let i = 0; i < 3; i++) await appendRows(root, [{ id: BigInt(i) }], { env });
    const before = (await loadTable(createLocalStorage(), root)).metadata.snapshots.map((x) => x.snapshotId.toString());
    const preview = await cli('expire', root, '--retain-last', '1', '--dry-run');
    expect(preview.out.split('\n')[0]).toBe(`would expire 2 snapshot(s): ${before.slice(0, 2).join(', ')}`);
    expect(preview.out.split('\n').at(-1)).toMatch(/^would delete 2 manifest list\(s\), \d+ manifest\(s\), 0 data file\(s\), 0 delete file\(s\)$/);
    expect((await loadTable(createLocalStorage(), root)).metadata.snapshots.map((x) => x.snapshotId.toString())).toEqual(before);
    expect((await cli('expire', root, '--retain-last', '1')).out.split('\n')[0]).toBe(`expired 2 snapshot(s): ${before.slice(0, 2).join(', ')}`);
  });
});
