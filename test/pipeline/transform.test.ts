import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileFilter, compileProjection, compileTransform, type RowMeta } from '../../core/pipeline';
import { parseExpression } from '../../core/pipeline/transform-parser';
import { isTidemarkError } from '../../core/errors';

const META: RowMeta = { namespaceName: null, schemaName: 'app', tableName: 'order_1', dataEventType: '+I', opTs: 1_700_000_000_000 };
const evalFilter = (text: string, row: Record<string, unknown>) => compileFilter(text).evaluate(row as never, META);

describe('filter expressions', () => {
  it('compares numbers, bigints, decimal text and strings', () => {
    const row = { id: 5n, amount: '12.50', name: 'Ann', qty: 3 };
    expect(evalFilter('id > 4 AND amount = 12.5 AND name <> \'Bob\'', row)).toBe(true);
    expect(evalFilter('id * 2 + qty = 13', row)).toBe(true);
    expect(evalFilter('id / 2 = 2', row)).toBe(true); // bigint division truncates like SQL
    expect(evalFilter('qty / 2 = 1.5', row)).toBe(true);
    expect(evalFilter('id % 3 = 2 AND -qty < 0', row)).toBe(true);
    expect(evalFilter('name || \'!\' = \'Ann!\'', row)).toBe(true);
    expect(evalFilter('id BETWEEN 1 AND 5 AND qty NOT BETWEEN 4 AND 9', row)).toBe(true);
  });

  it('IN, LIKE with escapes, IS [NOT] NULL, IS TRUE', () => {
    const row = { s: 'a_b%', n: null, flag: true };
    expect(evalFilter("s IN ('x', 'a_b%')", row)).toBe(true);
    expect(evalFilter("s NOT IN ('x')", row)).toBe(true);
    expect(evalFilter("s LIKE 'a_b%'", row)).toBe(true);
    expect(evalFilter("s LIKE 'a!_b!%' ESCAPE '!'", row)).toBe(true);
    expect(evalFilter("'axb' LIKE 'a!_b' ESCAPE '!'", row)).toBe(false);
    expect(evalFilter("s NOT LIKE 'b%'", row)).toBe(true);
    expect(evalFilter('n IS NULL AND s IS NOT NULL AND flag IS TRUE AND n IS NOT TRUE', row)).toBe(true);
  });

  it('uses SQL three-valued logic with NULL', () => {
    const row = { x: null, y: 1 };
    expect(evalFilter('x > 1', row)).toBeNull();
    expect(evalFilter('NOT (x > 1)', row)).toBeNull();
    expect(evalFilter('x > 1 AND y = 2', row)).toBe(false); // NULL AND FALSE
    expect(evalFilter('x > 1 AND y = 1', row)).toBeNull(); // NULL AND TRUE
    expect(evalFilter('x > 1 OR y = 1', row)).toBe(true); // NULL OR TRUE
    expect(evalFilter('x > 1 OR y = 2', row)).toBeNull(); // NULL OR FALSE
    expect(evalFilter('y IN (2, NULL)', row)).toBeNull();
    expect(evalFilter('y IN (1, NULL)', row)).toBe(true);
    expect(evalFilter('y NOT IN (2, NULL)', row)).toBeNull();
    expect(evalFilter("x LIKE 'a%'", row)).toBeNull();
    expect(evalFilter('x + 1 = 2', row)).toBeNull();
    expect(evalFilter('x BETWEEN 0 AND 2', row)).toBeNull();
    expect(compileFilter('NOT (x > 1)').test(row as never, META)).toBe(false); // NULL drops the row
  });

  it('reads metadata columns', () => {
    expect(evalFilter("__table_name__ LIKE 'order\\_%' ESCAPE '\\' AND __schema_name__ = 'app'", {})).toBe(true);
    expect(evalFilter("__data_event_type__ = '+I' AND __namespace_name__ IS NULL AND op_ts > 0", {})).toBe(true);
  });

  it('rejects unsupported constructs by name, with the column', () => {
    const cases: [string, string][] = [
      ['CASE WHEN a THEN 1 END = 1', 'CASE is not supported in transform expressions (column 1)'],
      ['CAST(a AS INT) = 1', 'CAST is not supported in transform expressions (column 1)'],
      ['NOW() > 1', 'function NOW() is not supported in transform expressions (column 1)'],
      ['a IN (SELECT b FROM t)', 'IN (subquery) is not supported in transform expressions (column 7)'],
      ['a IS DISTINCT FROM b', 'IS DISTINCT FROM is not supported in transform expressions (column 6)'],
      ['a SIMILAR TO b', 'SIMILAR TO is not supported in transform expressions (column 3)'],
      ['t.a = 1', 'qualified name t.a is not supported in transform expressions (column 1)'],
    ];
    for (const [text, message] of cases) {
      expect(() => compileFilter(text), text).toThrow(expect.objectContaining({ code: 'Unsupported', message }));
    }
  });

  it('reports syntax errors as InvalidInput with the column', () => {
    const cases: [string, string][] = [
      ['a = ', 'expected a value, found end of expression (column 5)'],
      ["a = 'x", 'unterminated string literal (column 5)'],
      ['a = 1 1', 'unexpected "1" after the expression (column 7)'],
      ['(a = 1', 'expected ")", found end of expression (column 7)'],
      ['a ? 1', 'unexpected character "?" (column 3)'],
      ['UPPER(a, b) = 1', 'UPPER() takes 1 argument(s), found 2 (column 1)'],
      ['a IS 5', 'expected NULL, TRUE or FALSE after IS, found "5" (column 6)'],
      ['42', 'filter must be a condition, found the value 42 (column 1)'],
    ];
    for (const [text, message] of cases) {
      expect(() => compileFilter(text), text).toThrow(expect.objectContaining({ code: 'InvalidInput', message }));
    }
  });

  it('fails a row with DataInvalid naming the problem', () => {
    expect(() => evalFilter('nope = 1', { id: 1 })).toThrow(expect.objectContaining({ code: 'DataInvalid', message: 'unknown column "nope" in app.order_1 (columns: id)' }));
    expect(() => evalFilter('id / 0 = 1', { id: 1n })).toThrow(expect.objectContaining({ code: 'DataInvalid', message: 'division by zero in 1 / 0' }));
    expect(() => evalFilter("name + 1 = 2", { name: 'x' })).toThrow(expect.objectContaining({ code: 'DataInvalid', message: "cannot use 'x' as a number in +" }));
  });
});

describe('projection', () => {
  it('expands \\*, renames with AS, computes expressions and metadata columns', () => {
    const p = compileProjection("\\*, UPPER(name) AS name_u, amount * 2 doubled, __table_name__, op_ts AS ts, CONCAT(__schema_name__, '.', __table_name__) AS src");
    expect(p.outputColumns(['id', 'name', 'amount'])).toEqual(['id', 'name', 'amount', 'name_u', 'doubled', '__table_name__', 'ts', 'src']);
    expect(p.apply({ id: 1n, name: 'ann', amount: 2.5 }, META)).toEqual({
      id: 1n, name: 'ann', amount: 2.5, name_u: 'ANN', doubled: 5, __table_name__: 'order_1', ts: 1_700_000_000_000, src: 'app.order_1',
    });
    expect(p.sourceColumns.sort()).toEqual(['amount', 'name']);
    expect(p.metadataColumns.sort()).toEqual(['__schema_name__', '__table_name__', 'op_ts']);
  });

  it('a computed column named like a source column replaces it in place', () => {
    const p = compileProjection('\\*, TRIM(name) AS name');
    expect(p.outputColumns(['id', 'name'])).toEqual(['id', 'name']);
    expect(p.apply({ id: 1, name: '  x ' }, META)).toEqual({ id: 1, name: 'x' });
  });

  it('column lists keep order; functions are NULL-strict except COALESCE', () => {
    const p = compileProjection('b, a, SUBSTR(s, 2, 3) AS sub, CHAR_LENGTH(s) AS len, COALESCE(n, 0) AS c, LOWER(n) AS l, ABS(-3) AS abs, ROUND(2.5) AS r, FLOOR(-1.5) AS f');
    expect(p.apply({ a: 1, b: 2, s: 'héllo', n: null }, META)).toEqual({ b: 2, a: 1, sub: 'éll', len: 5, c: 0, l: null, abs: 3, r: 3, f: -2 });
  });

  it('rejects unnamed expressions and duplicate names', () => {
    expect(() => compileProjection('id, amount * 2')).toThrow(expect.objectContaining({ code: 'InvalidInput', message: 'projection item 2 (amount * 2) needs a name: write amount * 2 AS name (column 5)' }));
    expect(() => compileProjection('id, x AS ID')).toThrow(expect.objectContaining({ code: 'InvalidInput', message: 'projection names column "ID" twice (items 1 and 2) (column 5)' }));
  });
});

describe('compileTransform', () => {
  it('filters on source and computed columns and returns the projected row', () => {
    const t = compileTransform('id, amount * 2 AS doubled', 'doubled > 10 AND note IS NULL');
    expect(t.outputColumns(['id', 'amount', 'note'])).toEqual(['id', 'doubled']);
    expect(t.apply({ id: 1, amount: 6, note: null }, META)).toEqual({ id: 1, doubled: 12 });
    expect(t.apply({ id: 2, amount: 5, note: null }, META)).toBeNull();
    expect(t.apply({ id: 3, amount: 6, note: 'x' }, META)).toBeNull();
  });
});

describe('expression parser robustness', () => {
  const alphabet = fc.constantFrom(...'abcxyz_019 .,()\'"`*\\+-/%|=<>!?AND OR NOT IS NULL IN LIKE CASE'.split(''), 'AND', 'OR', 'NOT', 'IS', 'NULL', 'IN', 'LIKE', 'BETWEEN', 'ESCAPE', 'CASE', 'UPPER(', 'AS');
  it('never throws anything but a TidemarkError (random text)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(alphabet, { maxLength: 40 }).map((a) => a.join(''))), (text) => {
        for (const f of [parseExpression, compileFilter, compileProjection]) {
          try {
            f(text);
          } catch (e) {
            if (!isTidemarkError(e)) throw e;
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('deep nesting is a typed error, not a stack overflow', () => {
    expect(() => parseExpression(`${'('.repeat(5000)}1${')'.repeat(5000)}`)).toThrow(expect.objectContaining({ code: 'InvalidInput', message: 'expression nested deeper than 100 levels (column 101)' }));
    expect(() => parseExpression(`${'NOT '.repeat(5000)}a`)).toThrow(expect.objectContaining({ code: 'InvalidInput' }));
  });
});
