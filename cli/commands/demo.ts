import { resolve } from 'node:path';
import { TidemarkError } from '../../core/errors';
import { compactDataFiles, createDemoWarehouse, planCompaction, type CompactionScope } from '../../core/lake/write';
import { compactPaimon } from '../../core/app/paimon-ops';
import { parseCommandArgs, stringifyJson, type CliRunner } from '../command';
import { isPaimonRoot, tableArg } from './lake-args';

export const demoCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('demo', argv, { seed: { type: 'string' }, 'format-version': { type: 'string' } }, { min: 1, max: 1, names: ['warehouse'] });
    if (values.seed !== undefined && !/^\d+$/.test(values.seed)) throw new TidemarkError('InvalidInput', `demo: --seed expects a non-negative integer, found ${JSON.stringify(values.seed)}`);
    const version = values['format-version'] ?? '2';
    if (version !== '2' && version !== '3') throw new TidemarkError('InvalidInput', `demo: --format-version expects 2 or 3, found ${JSON.stringify(version)}`);
    const { tables } = await createDemoWarehouse(resolve(positionals[0]!), values.seed === undefined ? 1 : Number(values.seed), version === '3' ? 3 : 2);
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
    if (await isPaimonRoot(root)) {
      // Paimon: full compaction of every bucket (one COMPACT snapshot), as Java's full-compaction does.
      const p = await compactPaimon(root, { scope, dryRun: values['dry-run'] === true });
      if (values.json) return io.out(stringifyJson(p));
      const what = `${p.files} data file(s), ${p.bytes} bytes, ${p.records} records in ${p.partitions} partition(s)${p.deleteFiles ? `, ${p.deleteFiles} deletion vector(s)` : ''}`;
      if (p.dryRun) return io.out(p.files === 0 ? 'nothing to compact' : `would rewrite ${what} into ${p.estimatedFiles} file(s), one per bucket and 65,536 rows`);
      return io.out(p.committedSnapshotId === null ? 'nothing to compact' : `snapshot ${p.committedSnapshotId}: rewrote ${what} into ${p.writtenFiles} file(s), ${p.liveRecords} rows`);
    }
    const r = values['dry-run'] ? await planCompaction(root, scope) : await compactDataFiles(root, { scope });
    if (values.json) return io.out(stringifyJson(r));
    const what = `${r.files} data file(s), ${r.bytes} bytes, ${r.records} records in ${r.partitions} partition(s)${r.deleteFiles ? `, ${r.deleteFiles} delete file(s)` : ''}`;
    if (values['dry-run']) return io.out(`would rewrite ${what} into about ${r.estimatedFiles} file(s)`);
    const done = r as Awaited<ReturnType<typeof compactDataFiles>>;
    io.out(done.committedSnapshotId === null ? 'nothing to compact' : `snapshot ${done.committedSnapshotId}: rewrote ${what} into ${done.writtenFiles} file(s), ${done.liveRecords} rows`);
  },
};
