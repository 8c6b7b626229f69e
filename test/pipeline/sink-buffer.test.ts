import { describe, expect, it } from 'vitest';
import { concatChanges, netChanges, TableBuffer, toColumnDelta, type SealedChanges } from '../../core/pipeline/sink-buffer';

/** A buffer over columns of the given lake types (`k` or `id` … the key). */
const bufferOf = (table: string, key: string[], columns: Record<string, string>) => new TableBuffer(table, key, Object.entries(columns).map(([name, type]) => ({ name, type })));

/** The net effect as rows: positions of the sealed round → row objects (deletes: their key columns). */
function netRows(s: SealedChanges) {
  const { delta, rows } = toColumnDelta(s);
  const toRows = (b: { length: number; columns: Record<string, unknown[]> } | undefined) =>
    Array.from({ length: b?.length ?? 0 }, (_, i) => Object.fromEntries(Object.entries(b!.columns).map(([name, values]) => [name, values[i]])));
  const { inserts, upserts } = netChanges(s);
  const added = toRows(delta.added);
  return { inserts: added.slice(0, inserts.length), upserts: added.slice(inserts.length), deleteKeys: toRows(delta.deleteKeys).slice(upserts.length), rows };
}

describe('TableBuffer: net changes per key within one commit round', () => {
  it('int key: insert then update stays an insert; delete of a new key vanishes; delete of an old key is a key delete', () => {
    const b = bufferOf('app.t', ['id'], { id: 'int', v: 'string' });
    b.put({ id: 1, v: 'a' }, false);
    b.delete({ id: 1, v: 'a' });
    b.put({ id: 1, v: 'b' }, true); // the after image of an update of a row inserted this round
    b.put({ id: 2, v: 'x' }, false);
    b.delete({ id: 2, v: 'x' });
    b.delete({ id: 3, v: 'old' });
    b.put({ id: 4, v: 'u' }, true);
    expect(b.changes).toBe(7);
    const s = b.seal();
    expect(b.empty).toBe(true);
    expect(netRows(s)).toEqual({ inserts: [{ id: 1, v: 'b' }], upserts: [{ id: 4, v: 'u' }], deleteKeys: [{ id: 3 }], rows: 3 });
    // The equality deletes hold the upserted keys, then the deleted ones.
    expect(toColumnDelta(b.seal()).rows).toBe(0);
  });

  it('bigint, string, binary and composite keys keep distinct values apart and equal values together', () => {
    const b = bufferOf('app.t', ['k'], { k: 'long', v: 'int' });
    b.put({ k: 9007199254740993n, v: 1 }, false);
    b.put({ k: 9007199254740993n, v: 2 }, true);
    b.put({ k: 9007199254740992n, v: 3 }, false);
    expect(netRows(b.seal()).inserts).toEqual([{ k: 9007199254740993n, v: 2 }, { k: 9007199254740992n, v: 3 }]);

    const s = bufferOf('app.s', ['k'], { k: 'string', v: 'string' });
    s.put({ k: '1', v: 'text' }, false);
    s.put({ k: 'N', v: 'letter N' }, false);
    s.delete({ k: null, v: 'null key' });
    expect(netRows(s.seal())).toEqual({ inserts: [{ k: '1', v: 'text' }, { k: 'N', v: 'letter N' }], upserts: [], deleteKeys: [{ k: null }], rows: 3 });

    const bin = bufferOf('app.b', ['k'], { k: 'binary', v: 'int' });
    bin.put({ k: new Uint8Array([1, 2]), v: 1 }, false);
    bin.put({ k: new Uint8Array([1, 2]), v: 2 }, true);
    expect(netRows(bin.seal()).inserts).toEqual([{ k: new Uint8Array([1, 2]), v: 2 }]);

    const c = bufferOf('app.c', ['a', 'b'], { a: 'int', b: 'string', v: 'int' });
    c.put({ a: 1, b: 'x', v: 1 }, false);
    c.put({ a: 1, b: 'y', v: 2 }, false);
    c.delete({ a: 1, b: 'x', v: 1 });
    c.delete({ a: 2, b: 'z', v: 0 });
    expect(netRows(c.seal())).toEqual({ inserts: [{ a: 1, b: 'y', v: 2 }], upserts: [], deleteKeys: [{ a: 2, b: 'z' }], rows: 2 });
  });

  it('source values become lake values before keys are compared: a number and the bigint read back from the table are one key', () => {
    const b = bufferOf('app.t', ['id'], { id: 'long', at: 'timestamp' });
    b.put({ id: 7, at: 1_700_000_000_000_000n }, false);
    b.delete({ id: 7n }); // a TRUNCATE's key, read back from the lake
    b.put({ ID: 8, AT: '2024-01-01T00:00:00' }, false); // a projection may spell column names differently
    expect(netRows(b.seal())).toEqual({ inserts: [{ id: 8n, at: '2024-01-01T00:00:00' }], upserts: [], deleteKeys: [], rows: 1 });
  });

  it('increasing integer inserts are the round as it is; a repeated key among them is still merged', () => {
    const b = bufferOf('app.t', ['id'], { id: 'int', v: 'string' });
    for (let i = 1; i <= 5; i++) b.put({ id: i, v: `r${i}` }, false);
    const s = b.seal();
    expect(netChanges(s)).toEqual({ inserts: [0, 1, 2, 3, 4], upserts: [], deletes: [] });
    expect(toColumnDelta(s).delta.added!.columns.v).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);

    [1, 2, 2, 3].forEach((id, i) => b.put({ id, v: `c${i}` }, false));
    const again = b.seal();
    expect(netChanges(again)).toEqual({ inserts: [0, 2, 3], upserts: [], deletes: [] });
    expect(toColumnDelta(again).delta.added!.columns.v).toEqual(['c0', 'c2', 'c3']);
  });

  it('a round taken in parts and concatenated is the round sealed at once', () => {
    const changes = (b: TableBuffer, split: boolean) => {
      const parts: SealedChanges[] = [];
      for (let i = 0; i < 10; i++) {
        b.put({ id: i % 4, v: `p${i}` }, i > 3);
        if (i % 3 === 0) b.delete({ id: (i + 1) % 4 });
        if (split && b.pending >= 4) parts.push(b.take());
      }
      expect(b.changes).toBe(14);
      parts.push(b.seal());
      expect(b.changes).toBe(0);
      return parts;
    };
    const parts = changes(bufferOf('app.t', ['id'], { id: 'int', v: 'string' }), true);
    expect(parts.length).toBe(4);
    const whole = changes(bufferOf('app.t', ['id'], { id: 'int', v: 'string' }), false);
    expect(whole.length).toBe(1);
    expect(concatChanges(parts)).toEqual(whole[0]);
    expect(netRows(concatChanges(parts))).toEqual(netRows(whole[0]!));
  });

  it('a table without key takes inserts only, failing loudly on updates and deletes', () => {
    const b = bufferOf('app.log', [], { line: 'string' });
    b.put({ line: 'a' }, false);
    b.put({ line: 'a' }, false);
    expect(netChanges(b.seal())).toEqual({ inserts: [0, 1], upserts: [], deletes: [] });
    expect(() => b.put({ line: 'b' }, true)).toThrow('app.log has no primary key: an update cannot be applied (set primary-keys in a transform)');
    expect(() => b.delete({ line: 'b' })).toThrow('app.log has no primary key: a delete cannot be applied (set primary-keys in a transform)');
  });

  it('a value that does not fit its column fails at the commit, naming table and column', () => {
    const b = bufferOf('app.t', ['id'], { id: 'int', n: 'int' });
    b.put({ id: 1, n: 'many' }, false);
    expect(() => toColumnDelta(b.seal())).toThrow(/app\.t\.n/);
  });
});
