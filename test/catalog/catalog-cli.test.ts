import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main';
import { RestCatalogClient } from '../../core/catalog';
import { copyWarehouse, makeDemoSource } from './helpers';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
let source: Awaited<ReturnType<typeof makeDemoSource>>;
let lake: ReturnType<typeof copyWarehouse>;

beforeAll(async () => {
  source = await makeDemoSource();
  lake = copyWarehouse(source.dir, 'lake');
});
afterAll(() => {
  lake.dispose();
  source.dispose();
});

function capture() {
  const err: string[] = [];
  return { io: { out: () => undefined, err: (t: string) => err.push(t) }, err };
}

/** Starts `tidemark catalog` (the real bin, through tsx) and waits for its one line. */
async function startCli(args: string[]) {
  const child = spawn(`${REPO_ROOT}/bin/tidemark`, ['catalog', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  while (!out.includes('\n')) {
    const [chunk] = (await once(child.stdout, 'data')) as [string];
    out += chunk;
  }
  return { child, out };
}

async function stop(child: ReturnType<typeof spawn>): Promise<number | null> {
  child.kill('SIGINT');
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

describe('tidemark catalog', () => {
  it('serves the warehouse, prints one uri/token line, and stops on SIGINT', async () => {
    const { child, out } = await startCli([lake.warehouse, '--port', '0']);
    const m = /^uri=(http:\/\/127\.0\.0\.1:\d+\/) token=([0-9a-f]{64})\n$/.exec(out);
    expect(m, out).not.toBeNull();
    const client = new RestCatalogClient({ uri: m![1]!, token: m![2]! });
    expect(await client.listTables(['demo'])).toEqual([
      { namespace: ['demo'], name: 'customers' },
      { namespace: ['demo'], name: 'orders' },
    ]);
    expect(await stop(child)).toBe(0);
  });

  it('takes --token and --host', async () => {
    const { child, out } = await startCli([lake.warehouse, '--token', 'given-token', '--host', '127.0.0.1']);
    const m = /^uri=(http:\/\/127\.0\.0\.1:\d+\/) token=given-token\n$/.exec(out);
    expect(m, out).not.toBeNull();
    expect(await new RestCatalogClient({ uri: m![1]!, warehouse: 'lake', token: 'given-token' }).listNamespaces()).toEqual([['demo']]);
    expect((await fetch(`${m![1]!}v1/config`)).status).toBe(401);
    expect(await stop(child)).toBe(0);
  });

  it('refuses bad arguments', async () => {
    const port = capture();
    expect(await runCli(['catalog', lake.warehouse, '--port', '99999'], port.io)).toBe(2);
    expect(port.err).toEqual(['error[InvalidInput]: catalog: --port: expected 0..65535, got "99999"']);
    const missing = capture();
    expect(await runCli(['catalog', `${lake.warehouse}-nope`], missing.io)).toBe(3);
    expect(missing.err).toEqual([`error[NotFound]: warehouse folder not found: ${lake.warehouse}-nope`]);
    const table = capture();
    expect(await runCli(['catalog', join(lake.warehouse, 'demo', 'orders')], table.io)).toBe(2);
    expect(table.err).toEqual([`error[InvalidInput]: ${join(lake.warehouse, 'demo', 'orders')} is an Iceberg table, not a warehouse: serve the folder that holds its namespace`]);
    const token = capture();
    expect(await runCli(['catalog', lake.warehouse, '--token', 'a b'], token.io)).toBe(2);
    expect(token.err).toEqual(['error[InvalidInput]: catalog: --token: expected printable ASCII without spaces']);
  });
});
