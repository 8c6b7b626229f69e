/**
 * Snapshot management (core/lake/write/refs.ts): tags and branches created, moved and removed;
 * rollback of main to an ancestor; cherry-pick by fast-forward and by re-applying an append; each
 * read back through the ordinary read path and each refusal with its code and message.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { countRows, loadTable, scanRows } from '../../core/lake';
import { appendRows, applyRowDelta, cherryPick, createTable, removeSnapshotRef, rollbackTo, seededWriteEnv, setSnapshotRef } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node/index';

const storage = createLocalStorage();
const work = mkdtempSync(join(tmpdir(), 'tidemark-refs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function thrown(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code: string; message: string };
    return { code: err.code, message: err.message };
  }
  throw new Error('expected an error');
}

/** A table with snapshots s1..s3 (appends of ids 1-2, 3, 4) and s4 (deletes id 1). */
async function fourSnapshots(name: string) {
  const root = join(work, name);
  const env = seededWriteEnv(11);
  await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'v', type: 'string' }], identifierColumns: ['id'], env });
  await appendRows(root, [{ id: 1n, v: 'a' }, { id: 2n, v: 'b' }], { env });
  await appendRows(root, [{ id: 3n, v: 'c' }], { env });
  await appendRows(root, [{ id: 4n, v: 'd' }], { env });
  await applyRowDelta(root, { deleteKeys: [{ id: 1n }] }, { env });
  const ids = (await loadTable(storage, root)).metadata.snapshots.map((s) => s.snapshotId);
  return { root, env, s: ids as [bigint, bigint, bigint, bigint] };
}

const idsAt = async (root: string, sel: { ref?: string; snapshotId?: bigint } = {}) =>
  (await scanRows(storage, root, sel)).rows.map((r) => Number(r.id)).sort((a, b) => a - b);

describe('snapshot refs (Iceberg spec "Snapshot References")', () => {
  it('tags: create at a snapshot or the current one, move, read by name, remove', async () => {
    const { root, env, s } = await fourSnapshots('tags');
    expect(await setSnapshotRef(root, 'q4-close', 'tag', s[1], env)).toEqual({ name: 'q4-close', type: 'tag', snapshotId: s[1], previousSnapshotId: null });
    expect(await idsAt(root, { ref: 'q4-close' })).toEqual([1, 2, 3]);
    expect(await setSnapshotRef(root, 'q4-close', 'tag', s[0], env)).toMatchObject({ snapshotId: s[0], previousSnapshotId: s[1] });
    expect(await countRows(storage, root, { ref: 'q4-close' })).toBe(2);
    expect(await setSnapshotRef(root, 'today', 'tag', null, env)).toMatchObject({ snapshotId: s[3] });
    const refs = (await loadTable(storage, root)).metadata.refs;
    expect(Object.keys(refs).sort()).toEqual(['main', 'q4-close', 'today']);
    expect(await removeSnapshotRef(root, 'q4-close', 'tag', env)).toMatchObject({ snapshotId: null, previousSnapshotId: s[0] });
    expect(Object.keys((await loadTable(storage, root)).metadata.refs).sort()).toEqual(['main', 'today']);
  });

  it('refuses a name of the other type, removing main, unknown refs and snapshots, blank names', async () => {
    const { root, env, s } = await fourSnapshots('refusals');
    await setSnapshotRef(root, 'audit', 'branch', s[0], env);
    expect(await thrown(setSnapshotRef(root, 'audit', 'tag', s[1], env))).toEqual({ code: 'InvalidInput', message: `audit is a branch of ${root}, not a tag: remove it first or choose another name` });
    expect(await thrown(removeSnapshotRef(root, 'main', 'branch', env))).toEqual({ code: 'InvalidInput', message: `branch main of ${root} cannot be removed` });
    expect(await thrown(removeSnapshotRef(root, 'nope', 'tag', env))).toEqual({ code: 'NotFound', message: `no tag named nope in ${root} (refs: main, audit)` });
    expect(await thrown(removeSnapshotRef(root, 'audit', 'tag', env))).toEqual({ code: 'InvalidInput', message: `audit is a branch of ${root}, not a tag` });
    expect(await thrown(setSnapshotRef(root, 't', 'tag', 42n, env))).toEqual({ code: 'NotFound', message: `snapshot 42 not found in table ${root}` });
    expect((await thrown(setSnapshotRef(root, ' ', 'tag', null, env))).code).toBe('InvalidInput');
  });

  it('rollback: main back to an ancestor (current snapshot and log follow); a non-ancestor is refused', async () => {
    const { root, env, s } = await fourSnapshots('rollback');
    expect(await rollbackTo(root, s[1], env)).toEqual({ name: 'main', type: 'branch', snapshotId: s[1], previousSnapshotId: s[3] });
    const m = (await loadTable(storage, root)).metadata;
    expect(m.currentSnapshotId).toBe(s[1]);
    expect(m.refs.main!.snapshotId).toBe(s[1]);
    expect(m.snapshotLog.at(-1)!.snapshotId).toBe(s[1]);
    expect(await idsAt(root)).toEqual([1, 2, 3]);
    // s4 is no longer an ancestor of main.
    expect(await thrown(rollbackTo(root, s[3], env))).toEqual({
      code: 'InvalidInput',
      message: `rollback: snapshot ${s[3]} is not an ancestor of main's current snapshot ${s[1]} in ${root}; to point main at any snapshot, use tidemark branch <table> main --snapshot ${s[3]}`,
    });
    // A new commit goes on from the rolled-back state.
    await appendRows(root, [{ id: 9n, v: 'z' }], { env });
    expect(await idsAt(root)).toEqual([1, 2, 3, 9]);
  });

  it('cherry-pick: fast-forward, re-applied append (once), refused delete', async () => {
    const { root, env, s } = await fourSnapshots('cherry');
    await setSnapshotRef(root, 'ff', 'branch', s[1], env);
    expect(await cherryPick(root, s[2], { branch: 'ff', env })).toEqual({ name: 'ff', type: 'branch', snapshotId: s[2], previousSnapshotId: s[1], mode: 'fast-forward' });
    expect(await idsAt(root, { ref: 'ff' })).toEqual([1, 2, 3, 4]);

    await setSnapshotRef(root, 'audit', 'branch', s[0], env);
    const picked = await cherryPick(root, s[2], { branch: 'audit', env });
    expect(picked).toMatchObject({ name: 'audit', mode: 'append', previousSnapshotId: s[0] });
    expect(await idsAt(root, { ref: 'audit' })).toEqual([1, 2, 4]);
    const m = (await loadTable(storage, root)).metadata;
    const made = m.snapshots.find((x) => x.snapshotId === picked.snapshotId)!;
    expect(made).toMatchObject({ parentSnapshotId: s[0], summary: expect.objectContaining({ operation: 'append', 'source-snapshot-id': s[2].toString(), 'added-records': '1' }) });
    expect(m.currentSnapshotId).toBe(s[3]); // main untouched
    expect(await thrown(cherryPick(root, s[2], { branch: 'audit', env }))).toEqual({
      code: 'InvalidInput',
      message: `cherry-pick: snapshot ${s[2]} was already cherry-picked onto branch audit of ${root}`,
    });
    expect(await thrown(cherryPick(root, s[0], { branch: 'audit', env }))).toEqual({ code: 'InvalidInput', message: `cherry-pick: snapshot ${s[0]} is already in branch audit of ${root}` });
    expect(await thrown(cherryPick(root, s[3], { branch: 'audit', env }))).toEqual({
      code: 'Unsupported',
      message: `cherry-pick: snapshot ${s[3]} of ${root} is a delete snapshot, and branch audit is not at its parent; only appends can be re-applied elsewhere (as in Iceberg)`,
    });
    await setSnapshotRef(root, 'frozen', 'tag', s[0], env);
    expect((await thrown(cherryPick(root, s[1], { branch: 'frozen', env }))).message).toBe(`cherry-pick: frozen is a tag of ${root}; cherry-pick onto a branch`);
  });

  it('two writers moving refs at once both land (optimistic retries)', async () => {
    const { root, s } = await fourSnapshots('concurrent');
    await Promise.all([setSnapshotRef(root, 'a', 'tag', s[0], seededWriteEnv(1)), setSnapshotRef(root, 'b', 'tag', s[1], seededWriteEnv(2)), rollbackTo(root, s[2], seededWriteEnv(3))]);
    const m = (await loadTable(storage, root)).metadata;
    expect({ a: m.refs.a?.snapshotId, b: m.refs.b?.snapshotId, main: m.refs.main?.snapshotId }).toEqual({ a: s[0], b: s[1], main: s[2] });
  });
});
