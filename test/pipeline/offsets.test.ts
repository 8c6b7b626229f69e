/**
 * The order of source offsets along one stream (core/pipeline/runner/offsets.ts), inside a
 * snapshot phase: integer chunk bounds by value, key tuples (whose order only the server knows) by
 * the count of chunks emitted up to each.
 */
import { describe, expect, it } from 'vitest';
import { compareOffsets } from '../../core/pipeline/index';
import type { SnapshotState, SourceOffset } from '../../core/cdc/index';

const at = (snapshot: Omit<SnapshotState, 'tables' | 'tableIndex'> | null): SourceOffset => ({
  file: 'binlog.000001',
  pos: 4n,
  gtidSet: null,
  snapshot: snapshot && { tables: [{ db: 'app', table: 't' }], tableIndex: 0, ...snapshot },
  schemas: null,
});

describe('compareOffsets inside a snapshot', () => {
  it('integer bounds compare by value, past 2^53 too', () => {
    expect(compareOffsets(at({ lastKey: '9' }), at({ lastKey: '10' }))).toBeLessThan(0);
    expect(compareOffsets(at({ lastKey: '9007199254740993' }), at({ lastKey: '9007199254740992' }))).toBeGreaterThan(0);
    expect(compareOffsets(at({ lastKey: null }), at({ lastKey: '1' }))).toBeLessThan(0);
    expect(compareOffsets(at({ lastKey: '1' }), at(null))).toBeLessThan(0);
  });

  it('key tuples compare by their chunk counts (the server orders UUIDs and collations, not JS)', () => {
    // In the server's UUID order the first sorts after the second: the counts say so.
    const a = at({ lastKey: '["00000000-0000-1000-8000-000000000002"]', chunks: 4 });
    const b = at({ lastKey: '["ffffffff-0000-7000-8000-000000000000"]', chunks: 3 });
    expect(compareOffsets(a, b)).toBeGreaterThan(0);
    expect(compareOffsets(b, a)).toBeLessThan(0);
    expect(compareOffsets(a, at({ lastKey: '["00000000-0000-1000-8000-000000000002"]' }))).toBe(0);
    expect(compareOffsets(at({ lastKey: '["b"]', chunks: 1 }), at({ lastKey: null }))).toBeGreaterThan(0);
  });

  it('key tuples without counts (offsets of an earlier version) cannot be ordered: DataInvalid naming the table', () => {
    expect(() => compareOffsets(at({ lastKey: '["a"]' }), at({ lastKey: '["b"]', chunks: 2 }))).toThrowError(
      expect.objectContaining({
        code: 'DataInvalid',
        message:
          'source offsets inside the snapshot of app.t cannot be ordered: chunk bounds ["a"] and ["b"] carry no chunk count (written by an earlier version); restart the snapshot of that table',
      }),
    );
  });
});
