import { TidemarkError } from '../../core/errors';
import { cherryPick, removeSnapshotRef, rollbackTo, setSnapshotRef, type RefChange, type RefType } from '../../core/lake/write';
import { removePaimonRef, rollbackPaimon, setPaimonRef, type PaimonRollbackChange } from '../../core/app/paimon-ops';
import { createPaimonBranch } from '../../core/lake/paimon/write';
import { parseCommandArgs, stringifyJson, type CliRunner, type CliIo } from '../command';
import { isPaimonRoot, tableArg } from './lake-args';

function snapshotIdArg(command: string, what: string, text: string): bigint {
  if (!/^\d+$/.test(text)) throw new TidemarkError('InvalidInput', `${command}: ${what} expects a decimal snapshot id, found ${JSON.stringify(text)}`, { command });
  return BigInt(text);
}

/** The table root and its format: Iceberg refs live in its metadata, Paimon's in tag/ and branch/ folders. */
async function tableOf(positional: string | undefined): Promise<{ root: string; paimon: boolean }> {
  const root = tableArg(positional);
  return { root, paimon: await isPaimonRoot(root) };
}

function printChange(io: CliIo, json: boolean | undefined, change: RefChange & { mode?: string }): void {
  if (json) return io.out(stringifyJson(change));
  const was = change.previousSnapshotId === null ? 'created' : `was ${change.previousSnapshotId}`;
  if (change.snapshotId === null) return io.out(`${change.type} ${change.name} removed (was ${change.previousSnapshotId})`);
  io.out(`${change.type} ${change.name} → ${change.snapshotId} (${was}${change.mode ? `, ${change.mode}` : ''})`);
}

function refCommand(type: RefType): CliRunner {
  return {
    async run(argv, io) {
      const options = { snapshot: { type: 'string' }, tag: { type: 'string' }, delete: { type: 'boolean' }, json: { type: 'boolean' } } as const;
      const { values, positionals } = parseCommandArgs(type, argv, options, { min: 2, max: 2, names: ['table', 'name'] });
      const { root, paimon } = await tableOf(positionals[0]);
      const name = positionals[1]!;
      const fromTag = values.tag;
      if (fromTag !== undefined) {
        if (type === 'tag') throw new TidemarkError('InvalidInput', 'tag: --tag goes with the branch command (a branch made from a tag)', { command: type });
        // A Paimon branch made from a tag copies the tag too, so the table's expiry keeps its files (Java's createBranch(name, tag)).
        if (!paimon) throw new TidemarkError('InvalidInput', `branch: --tag is for Paimon tables; for ${root} give the tag's snapshot with --snapshot`, { command: type });
        if (values.snapshot !== undefined || values.delete) throw new TidemarkError('InvalidInput', 'branch: use only one of --tag, --snapshot, --delete', { command: type });
        const id = await createPaimonBranch(root, name, { tag: fromTag });
        return printChange(io, values.json, { name, type, snapshotId: id, previousSnapshotId: null });
      }
      if (values.delete) {
        if (values.snapshot !== undefined) throw new TidemarkError('InvalidInput', `${type}: use either --snapshot or --delete`, { command: type });
        return printChange(io, values.json, paimon ? await removePaimonRef(root, name, type) : await removeSnapshotRef(root, name, type));
      }
      const id = values.snapshot === undefined ? null : snapshotIdArg(type, '--snapshot', values.snapshot);
      printChange(io, values.json, paimon ? await setPaimonRef(root, name, type, id) : await setSnapshotRef(root, name, type, id));
    },
  };
}

export const tagCommand = refCommand('tag');
export const branchCommand = refCommand('branch');

export const rollbackCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('rollback', argv, { json: { type: 'boolean' } }, { min: 2, max: 2, names: ['table', 'snapshot'] });
    const { root, paimon } = await tableOf(positionals[0]);
    const id = snapshotIdArg('rollback', '<snapshot>', positionals[1]!);
    if (!paimon) return printChange(io, values.json, await rollbackTo(root, id));
    // Paimon's rollback deletes the later snapshots and their tags (Java's rollback_to): say so.
    const change: PaimonRollbackChange = await rollbackPaimon(root, id);
    if (values.json) return io.out(stringifyJson(change));
    printChange(io, false, change);
    if (change.removedSnapshotIds.length > 0) io.out(`deleted snapshot(s) ${change.removedSnapshotIds.join(', ')}${change.removedTags.length ? `, tag(s) ${change.removedTags.join(', ')}` : ''}, ${change.deletedFiles} file(s)`);
  },
};

export const cherryPickCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('cherry-pick', argv, { branch: { type: 'string' }, json: { type: 'boolean' } }, { min: 2, max: 2, names: ['table', 'snapshot'] });
    const { root, paimon } = await tableOf(positionals[0]);
    if (paimon) throw new TidemarkError('Unsupported', `cherry-pick: ${root} is a Paimon table, and Paimon has no cherry-pick (its branches are merged by fast-forward only); cherry-pick is for Iceberg tables`, { table: root });
    printChange(io, values.json, await cherryPick(root, snapshotIdArg('cherry-pick', '<snapshot>', positionals[1]!), { branch: values.branch }));
  },
};
