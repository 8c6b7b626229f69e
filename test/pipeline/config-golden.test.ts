import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIssue, loadPipelineConfig, validatePipeline } from '../../core/pipeline';
import { TidemarkError } from '../../core/errors';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const ENV = { DB_PASS: 's3cret' };

/**
 * Golden pairs: each fixtures/<name>.yaml beside <name>.expected.json holding the exact errors
 * (`CODE file:line: path: message`), warnings and normalized config (null when invalid).
 */
describe('pipeline config golden fixtures', () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.yaml')).sort();
  it('has fixtures', () => expect(files.length).toBeGreaterThanOrEqual(12));
  for (const file of files) {
    it(file, () => {
      const expected = JSON.parse(readFileSync(join(FIXTURES, file.replace(/\.yaml$/, '.expected.json')), 'utf8')) as {
        errors: string[];
        warnings: string[];
        config: unknown;
      };
      const result = validatePipeline(readFileSync(join(FIXTURES, file), 'utf8'), { fileName: file, env: ENV });
      expect(result.errors.map((e) => `${e.code} ${formatIssue(file, e)}`)).toEqual(expected.errors);
      expect(result.warnings.map((w) => formatIssue(file, w))).toEqual(expected.warnings);
      expect(result.config).toEqual(expected.config);
      expect(file.startsWith('err-')).toBe(result.config === null);
    });
  }
});

describe('loadPipelineConfig', () => {
  it('throws one InvalidInput joining every error line', () => {
    const text = readFileSync(join(FIXTURES, 'err-route.yaml'), 'utf8');
    let thrown: unknown;
    try {
      loadPipelineConfig(text, { fileName: 'p.yaml', env: ENV });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(TidemarkError);
    const err = thrown as TidemarkError;
    expect(err.code).toBe('InvalidInput');
    expect(err.message.split('\n')).toHaveLength(7);
    expect(err.message.split('\n')[0]).toBe('p.yaml:14: route[1].source-table: invalid regex "app.[z-a]": Range out of order in character class');
    expect(err.context).toEqual({ file: 'p.yaml', errors: 7, line: 14, path: 'route[1].source-table' });
  });

  it('throws Unsupported when every error is unsupported (a Doris sink)', () => {
    const text = 'source:\n  type: mysql\n  hostname: h\n  username: u\n  password: p\n  tables: a.b\nsink:\n  type: doris\npipeline:\n  name: x\n';
    expect(() => loadPipelineConfig(text, { fileName: 'p.yaml' })).toThrow(
      expect.objectContaining({ code: 'Unsupported', message: 'p.yaml:8: sink.type: sink type "doris" is not supported: Tidemark writes Apache Iceberg (type: iceberg) and Apache Paimon (type: paimon) tables' }),
    );
  });

  it('resolves a relative warehouse against baseDir and applies defaults', () => {
    const text = 'source:\n  type: mysql\n  hostname: h\n  username: u\n  password: p\n  tables: a.b\nsink:\n  type: iceberg\n  catalog.properties.type: hadoop\n  catalog.properties.warehouse: lake\npipeline:\n  name: x\n';
    const { config, warnings } = loadPipelineConfig(text, { fileName: 'p.yaml', baseDir: '/home/me/proj' });
    expect(warnings).toEqual([]);
    expect(config.sink.warehouse).toBe('/home/me/proj/lake');
    expect(config.pipeline).toEqual({
      name: 'x', parallelism: 1, schemaChangeBehavior: 'lenient', routeMode: 'ALL_MATCH', localTimeZone: null, transformDecimalPrecisionMode: 'UP_TO_19',
      checkpointIntervalMs: 30_000, tidemark: { changelogEnabled: false, statusFile: null },
    });
    expect(config.sink.schemaChanges).toEqual(['create.table', 'add.column', 'alter.column.type', 'rename.column', 'drop.column']);
    expect(config.source.skippedOperations).toEqual(['t']);
    expect(config.source.port).toBe(3306);
  });
});
