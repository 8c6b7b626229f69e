/**
 * The Data tab's filter boxes: one box per column, its text read as the filters of that column
 * (the query.page contract's ops). Pure, so that it is tested without a DOM.
 */
export type FilterOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'contains' | 'is null' | 'is not null';
export interface GridFilter {
  column: string;
  op: FilterOp;
  value?: string;
}

/**
 * Parses a filter box: `>= 10`, `= x`, `!= x`, a range `10..20` (both ends included; either end may
 * be left out: `..20`, `10..`), `null`, `not null`; any other text is "contains". Empty text: none.
 */
export function parseFilterText(column: string, text: string): GridFilter[] {
  const t = text.trim();
  if (!t) return [];
  if (/^null$/i.test(t)) return [{ column, op: 'is null' }];
  if (/^not null$/i.test(t)) return [{ column, op: 'is not null' }];
  const m = /^(>=|<=|!=|=|>|<)\s*(.*)$/.exec(t);
  if (m) return [{ column, op: m[1] as FilterOp, value: m[2]! }];
  // A range of numbers or dates: `a..b`, where a and b hold no spaces and no second `..`.
  const r = /^([^\s.][^\s]*?)?\s*\.\.\s*([^\s]+)?$/.exec(t);
  if (r && (r[1] !== undefined || r[2] !== undefined) && !(r[2] ?? '').includes('..')) {
    const out: GridFilter[] = [];
    if (r[1] !== undefined) out.push({ column, op: '>=', value: r[1] });
    if (r[2] !== undefined) out.push({ column, op: '<=', value: r[2] });
    return out;
  }
  return [{ column, op: 'contains', value: t }];
}
