import { resolve } from 'node:path';
import { TidemarkError } from '../../core/errors';
import { createDemoWarehouse, rewriteDataFiles } from '../../core/lake/write';
import { parseCommandArgs, type CliCommand } from '../command';

export const demoCommand: CliCommand = {
  name: 'demo',
  summary: 'Create a deterministic demo lake (namespace demo: customers, orders with 6 snapshots)',
  usage: 'demo <warehouse> [--seed N]',
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('demo', argv, { seed: { type: 'string' } }, { min: 1, max: 1, names: ['warehouse'] });
    if (values.seed !== undefined && !/^\d+$/.test(values.seed)) throw new TidemarkError('InvalidInput', `demo: --seed expects a non-negative integer, found ${JSON.stringify(values.seed)}`);
    const { tables } = await createDemoWarehouse(resolve(positionals[0]!), values.seed === undefined ? 1 : Number(values.seed));
    for (const t of tables) io.out(t);
  },
};

export const compactCommand: CliCommand = {
  name: 'compact',
  summary: 'Rewrite the live rows of an Iceberg table into new files, applying deletes (replace snapshot)',
  usage: 'compact <table>',
  async run(argv, io) {
    const { positionals } = parseCommandArgs('compact', argv, {}, { min: 1, max: 1, names: ['table'] });
    const { metadata } = await rewriteDataFiles(resolve(positionals[0]!));
    io.out(`snapshot ${metadata.currentSnapshotId}: ${metadata.snapshots.at(-1)?.summary['total-records'] ?? 0} rows in ${metadata.snapshots.at(-1)?.summary['total-data-files'] ?? 0} file(s)`);
  },
};
