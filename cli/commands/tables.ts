import { listWarehouseTables } from '../../core/lake/warehouse';
import { parseCommandArgs, stringifyJson, type CliRunner } from '../command';
import { lakeLocation, REMOTE_OPTIONS } from './lake-args';

export const tablesCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('tables', argv, { ...REMOTE_OPTIONS, json: { type: 'boolean' } }, { min: 1, max: 1, names: ['warehouse'] });
    const { root, storage, display, checkLoaded } = await lakeLocation(positionals[0], values, 'warehouse');
    const tables = (await listWarehouseTables(storage, root)).map((t) => ({ ...t, path: display(t.path) }));
    checkLoaded();
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
