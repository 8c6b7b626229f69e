import { TidemarkError } from '../../core/errors';
import { cherryPick, removeSnapshotRef, rollbackTo, setSnapshotRef, type RefChange, type RefType } from '../../core/lake/write';
import { parseCommandArgs, stringifyJson, type CliRunner, type CliIo } from '../command';
import { isPaimonRoot, tableArg } from './lake-args';

function snapshotIdArg(command: string, what: string, text: string): bigint {
  if (!/^\d+$/.test(text)) throw new TidemarkError('InvalidInput', `${command}: ${what} expects a decimal snapshot id, found ${JSON.stringify(text)}`, { command });
  return BigInt(text);
}

/** Snapshot management writes Iceberg metadata; Paimon tags and branches are not written yet. */
async function icebergRoot(command: string, positional: string | undefined): Promise<string> {
  const root = tableArg(positional);
  if (await isPaimonRoot(root)) throw new TidemarkError('Unsupported', `${command}: ${root} is a Paimon table; tags, branches, rollback and cherry-pick are written for Iceberg tables only`, { table: root });
  return root;
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
      const { values, positionals } = parseCommandArgs(type, argv, { snapshot: { type: 'string' }, delete: { type: 'boolean' }, json: { type: 'boolean' } }, { min: 2, max: 2, names: ['table', 'name'] });
      const root = await icebergRoot(type, positionals[0]);
      const name = positionals[1]!;
      if (values.delete) {
        if (values.snapshot !== undefined) throw new TidemarkError('InvalidInput', `${type}: use either --snapshot or --delete`, { command: type });
        return printChange(io, values.json, await removeSnapshotRef(root, name, type));
      }
      const id = values.snapshot === undefined ? null : snapshotIdArg(type, '--snapshot', values.snapshot);
      printChange(io, values.json, await setSnapshotRef(root, name, type, id));
    },
  };
}

export const tagCommand = refCommand('tag');
export const branchCommand = refCommand('branch');

export const rollbackCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('rollback', argv, { json: { type: 'boolean' } }, { min: 2, max: 2, names: ['table', 'snapshot'] });
    const root = await icebergRoot('rollback', positionals[0]);
    printChange(io, values.json, await rollbackTo(root, snapshotIdArg('rollback', '<snapshot>', positionals[1]!)));
  },
};

export const cherryPickCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('cherry-pick', argv, { branch: { type: 'string' }, json: { type: 'boolean' } }, { min: 2, max: 2, names: ['table', 'snapshot'] });
    const root = await icebergRoot('cherry-pick', positionals[0]);
    printChange(io, values.json, await cherryPick(root, snapshotIdArg('cherry-pick', '<snapshot>', positionals[1]!), { branch: values.branch }));
  },
};
