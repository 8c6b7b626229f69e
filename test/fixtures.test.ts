import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from './support/fixtures';

/**
 * The interop fixtures are third-party bytes (PROVENANCE.md): each file must equal what was copied
 * from upstream, and no file may appear or vanish unlisted, or the golden tests stop proving interop.
 */
describe('test/fixtures', () => {
  const listed = new Map(
    readFileSync(join(FIXTURES, 'SHA256SUMS'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => {
        const [sum, path] = [line.slice(0, 64), line.slice(66)];
        return [path.replace(/^\.\//, ''), sum] as const;
      }),
  );

  function walk(dir: string, out: string[] = []): string[] {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p, out);
      else out.push(relative(FIXTURES, p));
    }
    return out;
  }

  it('holds exactly the files of SHA256SUMS, byte for byte', () => {
    const present = walk(FIXTURES).filter((p) => p !== 'SHA256SUMS' && p !== 'PROVENANCE.md').sort();
    expect(present).toEqual([...listed.keys()].sort());
    expect(present.length).toBeGreaterThan(500);
    const bad = present.filter((p) => createHash('sha256').update(readFileSync(join(FIXTURES, p))).digest('hex') !== listed.get(p));
    expect(bad).toEqual([]);
  });

  it('names the upstream repository, commit, path and licence of every table', () => {
    const provenance = readFileSync(join(FIXTURES, 'PROVENANCE.md'), 'utf8');
    for (const format of ['iceberg', 'iceberg-v3', 'paimon']) {
      const expected = JSON.parse(readFileSync(join(FIXTURES, format, 'expected.json'), 'utf8')) as { tables: Record<string, unknown> };
      for (const table of Object.keys(expected.tables)) {
        const row = provenance.split('\n').find((l) => l.startsWith(`| ${format}/${table} |`));
        expect(row, `${format}/${table}`).toMatch(/\| github\.com\/[\w.-]+\/[\w.-]+ \| [0-9a-f]{12} \| \S+ \| (MIT|Apache-2\.0) \|/);
      }
    }
  });
});
