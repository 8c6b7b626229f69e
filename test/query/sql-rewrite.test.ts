import { describe, expect, it } from 'vitest';
import { findTableRefs, rewriteTableRefs } from '../../core/query/sql-rewrite';

describe('findTableRefs', () => {
  it('finds ns.table in FROM and JOIN, with and without aliases', () => {
    const sql = 'SELECT o.id, c.name FROM demo.orders o JOIN demo.customers AS c ON o.cid = c.id';
    const refs = findTableRefs(sql);
    expect(refs.map((r) => [r.parts, r.hasAlias])).toEqual([
      [['demo', 'orders'], true],
      [['demo', 'customers'], true],
    ]);
    expect(rewriteTableRefs(sql, refs, (r) => `v_${r.parts[1]}`)).toBe('SELECT o.id, c.name FROM v_orders o JOIN v_customers AS c ON o.cid = c.id');
  });

  it('adds the table name as alias so qualified columns keep working', () => {
    const sql = 'SELECT orders.id FROM demo.orders WHERE orders.id > 1';
    expect(rewriteTableRefs(sql, findTableRefs(sql), () => 'v1')).toBe('SELECT orders.id FROM v1 AS "orders" WHERE orders.id > 1');
  });

  it('parses FOR VERSION AS OF and FOR TIMESTAMP AS OF', () => {
    const refs = findTableRefs(
      "SELECT count(*) FROM demo.orders FOR VERSION AS OF 9158179788527662767, demo.t FOR TIMESTAMP AS OF TIMESTAMP '2026-01-01 00:00:00' x",
    );
    expect(refs[0]!.timeTravel).toEqual({ kind: 'version', snapshotId: 9158179788527662767n });
    expect(refs[1]!.timeTravel).toEqual({ kind: 'timestamp', timestampMs: Date.UTC(2026, 0, 1) });
    expect(refs[1]!.hasAlias).toBe(true);
    expect(findTableRefs("SELECT * FROM a.b FOR SYSTEM_TIME AS OF '2026-01-01T01:00:00+01:00'")[0]!.timeTravel).toEqual({
      kind: 'timestamp',
      timestampMs: Date.UTC(2026, 0, 1),
    });
  });

  it('ignores strings, comments, quoted identifiers in other places, one-part names and columns', () => {
    const sql = `-- FROM demo.nope
      SELECT 'FROM demo.nope' AS s, t.a.b FROM t /* JOIN x.y */ WHERE x IN (SELECT 1 FROM "my ns"."my table")`;
    expect(findTableRefs(sql).map((r) => r.parts)).toEqual([['my ns', 'my table']]);
  });

  it('handles comma-separated FROM lists and subqueries', () => {
    const sql = 'SELECT * FROM a.x, a.y WHERE EXISTS (SELECT 1 FROM a.z) ORDER BY 1';
    expect(findTableRefs(sql).map((r) => r.parts.join('.'))).toEqual(['a.x', 'a.y', 'a.z']);
    expect(findTableRefs('SELECT a.x, b.y FROM t').map((r) => r.parts)).toEqual([]);
  });

  it("reads FOR VERSION AS OF 'name' as a tag or branch, digits in quotes as a snapshot id", () => {
    expect(findTableRefs("SELECT * FROM a.b FOR VERSION AS OF 'q4-close' WHERE x = 1")[0]!.timeTravel).toEqual({ kind: 'ref', name: 'q4-close' });
    expect(findTableRefs("SELECT * FROM a.b FOR SYSTEM_VERSION AS OF '42'")[0]!.timeTravel).toEqual({ kind: 'version', snapshotId: 42n });
  });

  it('rejects bad time travel clauses and unterminated strings with the position', () => {
    expect(() => findTableRefs('SELECT * FROM a.b FOR VERSION AS OF abc')).toThrow('FOR VERSION AS OF expects a snapshot id or a quoted tag or branch name at character 37');
    expect(() => findTableRefs("SELECT * FROM a.b FOR TIMESTAMP AS OF 'yesterday'")).toThrow(/expected 'YYYY-MM-DD HH:MM:SS/);
    expect(() => findTableRefs("SELECT 'abc")).toThrow('unterminated string starting at character 8');
  });
});
