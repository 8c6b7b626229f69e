import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main';
import { REPO_ROOT, FIXTURES } from '../support/fixtures';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

/** Runs the real bin/tidemark (TypeScript through tsx, no build step). */
function tidemark(...args: string[]) {
  return spawnSync(`${REPO_ROOT}/bin/tidemark`, args, { encoding: 'utf8', cwd: REPO_ROOT });
}

describe('tidemark CLI', () => {
  it('--help lists the commands and exits 0', () => {
    const r = tidemark('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: tidemark <command>/m);
    for (const name of ['start', 'serve', 'tables', 'version']) expect(r.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
  });

  it('an unknown command prints error[InvalidInput] to stderr and exits 2', () => {
    const r = tidemark('nonsense');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('error[InvalidInput]: unknown command "nonsense"; run tidemark --help\n');
  });

  it('bad arguments exit 2 naming the command and the argument', async () => {
    const unknownFlag = capture();
    expect(await runCli(['tables', '/tmp', '--bogus'], unknownFlag.io)).toBe(2);
    expect(unknownFlag.err).toEqual(["error[InvalidInput]: tables: Unknown option '--bogus'"]);
    const missing = capture();
    expect(await runCli(['tables'], missing.io)).toBe(2);
    expect(missing.err).toEqual(['error[InvalidInput]: tables: missing <warehouse>']);
    const port = capture();
    expect(await runCli(['serve', '--port', 'abc'], port.io)).toBe(2);
    expect(port.err).toEqual(['error[InvalidInput]: serve: --port: expected 0..65535, got "abc"']);
  });

  it('not found exits 3', () => {
    const r = tidemark('tables', '/nonexistent/warehouse');
    expect(r.status).toBe(3);
    expect(r.stderr).toBe('error[NotFound]: warehouse folder not found: /nonexistent/warehouse\n');
  });

  it('tables lists a warehouse with formats', async () => {
    const c = capture();
    expect(await runCli(['tables', `${FIXTURES}/iceberg`, '--json'], c.io)).toBe(0);
    const tables = JSON.parse(c.out.join('')) as { namespace: string; name: string; format: string }[];
    expect(tables).toContainEqual(expect.objectContaining({ namespace: 'icebird', name: 'spark_rename_column', format: 'iceberg' }));
  });

  it('version prints the package version', () => {
    const r = tidemark('version');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('0.1.0\n');
  });
});
