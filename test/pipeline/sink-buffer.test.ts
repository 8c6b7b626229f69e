import { describe, expect, it } from 'vitest';
import { TableBuffer } from '../../core/pipeline/sink-buffer';

describe('TableBuffer: net changes per key within one commit round', () => {
  it('int key: insert then update stays an insert; delete of a new key vanishes; delete of an old key is a key delete', () => {
    const b = new TableBuffer('app.t', ['id']);
    b.put({ id: 1, v: 'a' }, false);
    b.delete({ id: 1, v: 'a' });
    b.put({ id: 1, v: 'b' }, true); // the after image of an update of a row inserted this round
    b.put({ id: 2, v: 'x' }, false);
    b.delete({ id: 2, v: 'x' });
    b.delete({ id: 3, v: 'old' });
    b.put({ id: 4, v: 'u' }, true);
    expect(b.toDelta()).toEqual({
      delta: { inserts: [{ id: 1, v: 'b' }], upserts: [{ id: 4, v: 'u' }], deleteKeys: [{ id: 3 }] },
      rows: 3,
    });
    expect(b.changes).toBe(7);
  });

  it('bigint, string, binary and composite keys keep distinct values apart and equal values together', () => {
    const b = new TableBuffer('app.t', ['k']);
    b.put({ k: 9007199254740993n, v: 1 }, false);
    b.put({ k: 9007199254740993n, v: 2 }, true);
    b.put({ k: 9007199254740992n, v: 3 }, false);
    expect(b.toDelta().delta.inserts).toEqual([{ k: 9007199254740993n, v: 2 }, { k: 9007199254740992n, v: 3 }]);

    const s = new TableBuffer('app.s', ['k']);
    s.put({ k: '1', v: 'text' }, false);
    s.put({ k: 'N', v: 'letter N' }, false);
    s.delete({ k: null, v: 'null key' });
    expect(s.toDelta().delta).toEqual({ inserts: [{ k: '1', v: 'text' }, { k: 'N', v: 'letter N' }], upserts: [], deleteKeys: [{ k: null }] });

    const bin = new TableBuffer('app.b', ['k']);
    bin.put({ k: new Uint8Array([1, 2]), v: 1 }, false);
    bin.put({ k: new Uint8Array([1, 2]), v: 2 }, true);
    expect(bin.toDelta().delta.inserts).toEqual([{ k: new Uint8Array([1, 2]), v: 2 }]);

    const c = new TableBuffer('app.c', ['a', 'b']);
    c.put({ a: 1, b: 'x', v: 1 }, false);
    c.put({ a: 1, b: 'y', v: 2 }, false);
    c.delete({ a: 1, b: 'x', v: 1 });
    c.delete({ a: 2, b: 'z', v: 0 });
    expect(c.toDelta().delta).toEqual({ inserts: [{ a: 1, b: 'y', v: 2 }], upserts: [], deleteKeys: [{ a: 2, b: 'z' }] });
  });
});
