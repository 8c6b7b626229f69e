import { describe, expect, it } from 'vitest';
import { parseFilterText } from '../../renderer/src/lib/grid-filter';

describe('Data tab filter boxes', () => {
  it('reads comparisons, ranges, nulls and contains', () => {
    expect(parseFilterText('a', '')).toEqual([]);
    expect(parseFilterText('a', '  ')).toEqual([]);
    expect(parseFilterText('a', '>= 10')).toEqual([{ column: 'a', op: '>=', value: '10' }]);
    expect(parseFilterText('a', '=shipped')).toEqual([{ column: 'a', op: '=', value: 'shipped' }]);
    expect(parseFilterText('a', '!= x')).toEqual([{ column: 'a', op: '!=', value: 'x' }]);
    expect(parseFilterText('a', '10..20')).toEqual([{ column: 'a', op: '>=', value: '10' }, { column: 'a', op: '<=', value: '20' }]);
    expect(parseFilterText('a', '-5 .. 2.5')).toEqual([{ column: 'a', op: '>=', value: '-5' }, { column: 'a', op: '<=', value: '2.5' }]);
    expect(parseFilterText('a', '..20')).toEqual([{ column: 'a', op: '<=', value: '20' }]);
    expect(parseFilterText('a', '2026-01-01..')).toEqual([{ column: 'a', op: '>=', value: '2026-01-01' }]);
    expect(parseFilterText('a', 'NULL')).toEqual([{ column: 'a', op: 'is null' }]);
    expect(parseFilterText('a', 'not null')).toEqual([{ column: 'a', op: 'is not null' }]);
    expect(parseFilterText('a', 'ship')).toEqual([{ column: 'a', op: 'contains', value: 'ship' }]);
    expect(parseFilterText('a', '..')).toEqual([{ column: 'a', op: 'contains', value: '..' }]);
    expect(parseFilterText('a', 'a b..c')).toEqual([{ column: 'a', op: 'contains', value: 'a b..c' }]);
  });
});
