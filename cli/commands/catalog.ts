import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { startRestCatalogServer } from '../../core/catalog';
import { TidemarkError } from '../../core/errors';
import { parseCommandArgs, type CliRunner } from '../command';

export const catalogCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      'catalog',
      argv,
      { port: { type: 'string' }, host: { type: 'string' }, token: { type: 'string' } },
      { min: 1, max: 1, names: ['warehouse'] },
    );
    let port = 0;
    if (values.port !== undefined) {
      port = Number(values.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TidemarkError('InvalidInput', `catalog: --port: expected 0..65535, got ${JSON.stringify(values.port)}`);
    }
    if (values.token !== undefined && !/^[\x21-\x7e]+$/.test(values.token)) {
      throw new TidemarkError('InvalidInput', 'catalog: --token: expected printable ASCII without spaces');
    }
    const warehouse = resolve(positionals[0]!);
    if (!existsSync(warehouse)) throw new TidemarkError('NotFound', `warehouse folder not found: ${warehouse}`, { path: warehouse });
    const server = await startRestCatalogServer({ warehouse, port, host: values.host, token: values.token });
    io.out(`uri=${server.uri} token=${server.token}`);
    await new Promise<void>((done) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void server.close().then(done);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  },
};
