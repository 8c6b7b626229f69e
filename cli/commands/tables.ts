import { resolve } from 'node:path';
import { listWarehouseTables } from '../../core/lake/warehouse';
import { createLocalStorage } from '../../core/storage/node/index';
import { parseCommandArgs, stringifyJson, type CliRunner } from '../command';

export const tablesCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('tables', argv, { json: { type: 'boolean' } }, { min: 1, max: 1, names: ['warehouse'] });
    const tables = await listWarehouseTables(createLocalStorage(), resolve(positionals[0]!));
    if (values.json) {
      io.out(stringifyJson(tables));
      return;
    }
    if (tables.length === 0) {
      io.out('no tables');
      return;
    }
    for (const t of tables) io.out(`${t.namespace ? `${t.namespace}.` : ''}${t.name}\t${t.format}\t${t.path}`);
  },
};
