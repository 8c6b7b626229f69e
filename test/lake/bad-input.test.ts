import fc from 'fast-check';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TidemarkError } from '../../core/errors';
import { countRows, loadTable, parseTableMetadata, readAvroFile, scanRows } from '../../core/lake';
import { createLocalStorage } from '../../core/storage/node/index';
import { expectCode, fixturesRoot } from './helpers';

const storage = createLocalStorage();
const work = mkdtempSync(join(tmpdir(), 'tidemark-bad-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A private copy of java_bunnies (position + equality deletes) to damage. */
function copyTable(name: string): string {
  const dest = join(work, name);
  cpSync(`${fixturesRoot}/icebird/java_bunnies`, dest, { recursive: true });
  return dest;
}
const meta = (root: string, f: string) => join(root, 'metadata', f);
const list = (root: string, prefix: string) => readdirSync(join(root, 'metadata')).find((f) => f.startsWith(prefix))!;

describe('bad input fails with a typed error naming the file', () => {
  it('truncated metadata JSON → DataInvalid naming it', async () => {
    const root = copyTable('json');
    truncateSync(meta(root, 'v5.metadata.json'), 200);
    await expectCode(loadTable(storage, root), 'DataInvalid', /v5\.metadata\.json: expected table metadata JSON/);
  });

  it('version hint naming a missing file falls back to the newest metadata file', async () => {
    const root = copyTable('hint');
    writeFileSync(meta(root, 'version-hint.text'), '99\n');
    expect((await loadTable(storage, root)).metadataFile.endsWith('v5.metadata.json')).toBe(true);
  });

  it('not a table → NotFound naming the metadata folder', async () => {
    await expectCode(loadTable(storage, join(work, 'nothing-here')), 'NotFound', /nothing-here\/metadata is missing/);
  });

  it('truncated manifest list → DataInvalid naming it', async () => {
    const root = copyTable('list');
    const f = list(root, 'snap-9158');
    truncateSync(meta(root, f), 300);
    await expectCode(countRows(storage, root), 'DataInvalid', new RegExp(`${f}: expected an Avro object container file: truncated`));
  });

  it('corrupt manifest (bad magic) → DataInvalid naming it', async () => {
    const root = copyTable('manifest');
    writeFileSync(meta(root, 'a01399a1-e864-4562-b921-c8cb56e6e4a9-m0.avro'), 'not avro at all');
    await expectCode(scanRows(storage, root), 'DataInvalid', /a01399a1-e864-4562-b921-c8cb56e6e4a9-m0\.avro: expected an Avro object container file: bad magic/);
  });

  it('missing manifest → NotFound naming it', async () => {
    const root = copyTable('manifest-missing');
    rmSync(meta(root, 'e1756967-c907-47e2-8b37-82123c5e5908-m0.avro'));
    await expectCode(scanRows(storage, root), 'NotFound', /manifest not found: .*e1756967-c907-47e2-8b37-82123c5e5908-m0\.avro/);
  });

  it('truncated Parquet data file → DataInvalid naming it', async () => {
    const root = copyTable('parquet');
    truncateSync(join(root, 'data', 'bunnies-initial.parquet'), 100);
    await expectCode(scanRows(storage, root), 'DataInvalid', /bunnies-initial\.parquet: expected a Parquet data file/);
  });

  it('missing data file → NotFound naming it; missing delete file → NotFound naming it', async () => {
    const root = copyTable('data-missing');
    rmSync(join(root, 'data', 'bunnies-pos-deletes.parquet'));
    await expectCode(scanRows(storage, root), 'NotFound', /position delete file not found: .*bunnies-pos-deletes\.parquet/);
    rmSync(join(root, 'data', 'bunnies-initial.parquet'));
    await expectCode(scanRows(storage, root), 'NotFound', /data file not found: .*bunnies-initial\.parquet/);
  });

  it('unknown ref → NotFound naming it', async () => {
    await expectCode(scanRows(storage, `${fixturesRoot}/icebird/java_bunnies`, { ref: 'nope' }), 'NotFound', /ref "nope" not found; refs: main/);
  });
});

describe('decoders fed random bytes throw only TidemarkError', () => {
  const avro = readFileSync(`${fixturesRoot}/icebird/java_bunnies/metadata/a01399a1-e864-4562-b921-c8cb56e6e4a9-m1.avro`);
  it('Avro container: random mutations of a real manifest', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: avro.length - 1 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: avro.length }), async (at, byte, cut) => {
        const bytes = new Uint8Array(avro.subarray(0, cut));
        if (at < bytes.length) bytes[at] = byte;
        try {
          await readAvroFile(bytes, 'm.avro');
        } catch (e) {
          expect(e).toBeInstanceOf(TidemarkError);
        }
      }),
      { numRuns: 300 },
    );
  });
  it('metadata JSON: random strings', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          parseTableMetadata(s, 'x.metadata.json');
        } catch (e) {
          expect(e).toBeInstanceOf(TidemarkError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
