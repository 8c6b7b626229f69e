import { resolve } from 'node:path';
import { TidemarkError } from '../../core/errors';
import { compactDataFiles, createDemoWarehouse, planCompaction, type CompactionScope } from '../../core/lake/write';
import { parseCommandArgs, stringifyJson, type CliRunner } from '../command';
import { tableArg } from './lake-args';

export const demoCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('demo', argv, { seed: { type: 'string' } }, { min: 1, max: 1, names: ['warehouse'] });
    if (values.seed !== undefined && !/^\d+$/.test(values.seed)) throw new TidemarkError('InvalidInput', `demo: --seed expects a non-negative integer, found ${JSON.stringify(values.seed)}`);
    const { tables } = await createDemoWarehouse(resolve(positionals[0]!), values.seed === undefined ? 1 : Number(values.seed));
    for (const t of tables) io.out(t);
  },
};

export const compactCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      'compact',
      argv,
      { small: { type: 'boolean' }, partition: { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
      { min: 1, max: 1, names: ['table'] },
    );
    if (values.small && values.partition !== undefined) throw new TidemarkError('InvalidInput', 'compact: use either --small or --partition');
    const scope: CompactionScope = values.small ? { kind: 'small' } : values.partition !== undefined ? { kind: 'partition', partition: values.partition } : { kind: 'all' };
    const root = tableArg(positionals[0]);
    const r = values['dry-run'] ? await planCompaction(root, scope) : await compactDataFiles(root, { scope });
    if (values.json) return io.out(stringifyJson(r));
    const what = `${r.files} data file(s), ${r.bytes} bytes, ${r.records} records in ${r.partitions} partition(s)${r.deleteFiles ? `, ${r.deleteFiles} delete file(s)` : ''}`;
    if (values['dry-run']) return io.out(`would rewrite ${what} into about ${r.estimatedFiles} file(s)`);
    const done = r as Awaited<ReturnType<typeof compactDataFiles>>;
    io.out(done.committedSnapshotId === null ? 'nothing to compact' : `snapshot ${done.committedSnapshotId}: rewrote ${what} into ${done.writtenFiles} file(s), ${done.liveRecords} rows`);
  },
};
