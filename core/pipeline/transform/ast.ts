import type { FlinkType } from './types';

/** The syntax tree of transform expressions (parser.ts builds it, evaluator.ts compiles it). */
export type Literal = null | boolean | number | string;

export type Expr =
  | { k: 'lit'; value: Literal; raw?: string }
  | { k: 'col'; name: string }
  | { k: 'neg'; e: Expr }
  | { k: 'not'; e: Expr }
  | { k: 'bin'; op: BinaryOp; l: Expr; r: Expr }
  | { k: 'isnull'; e: Expr; not: boolean }
  | { k: 'istruth'; e: Expr; value: boolean; not: boolean }
  | { k: 'in'; e: Expr; list: Expr[]; not: boolean }
  | { k: 'like'; e: Expr; pattern: Expr; escape: Expr | null; not: boolean }
  | { k: 'between'; e: Expr; lo: Expr; hi: Expr; not: boolean }
  | { k: 'call'; name: string; args: Expr[]; col?: number }
  | { k: 'case'; operand: Expr | null; whens: { when: Expr[]; then: Expr }[]; else: Expr | null }
  | { k: 'cast'; e: Expr; type: FlinkType; try: boolean; col: number }
  | { k: 'distinct'; l: Expr; r: Expr; not: boolean }
  | { k: 'isunknown'; e: Expr; not: boolean }
  | { k: 'similar'; e: Expr; pattern: Expr; escape: Expr | null; not: boolean }
  | { k: 'interval'; amount: string; unit: string; col: number };

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '||' | '=' | '<>' | '<' | '<=' | '>' | '>=' | 'AND' | 'OR';

/** Every column name an expression reads (metadata columns included). */
export function referencedNames(e: Expr, out: Set<string> = new Set()): Set<string> {
  switch (e.k) {
    case 'col': out.add(e.name); break;
    case 'lit': break;
    case 'neg': case 'not': case 'isnull': case 'istruth': referencedNames(e.e, out); break;
    case 'bin': referencedNames(e.l, out); referencedNames(e.r, out); break;
    case 'in': referencedNames(e.e, out); e.list.forEach((x) => referencedNames(x, out)); break;
    case 'like': referencedNames(e.e, out); referencedNames(e.pattern, out); if (e.escape) referencedNames(e.escape, out); break;
    case 'between': referencedNames(e.e, out); referencedNames(e.lo, out); referencedNames(e.hi, out); break;
    case 'call': e.args.forEach((x) => referencedNames(x, out)); break;
    case 'case':
      if (e.operand) referencedNames(e.operand, out);
      for (const w of e.whens) {
        w.when.forEach((x) => referencedNames(x, out));
        referencedNames(w.then, out);
      }
      if (e.else) referencedNames(e.else, out);
      break;
    case 'cast': case 'isunknown': referencedNames(e.e, out); break;
    case 'distinct': referencedNames(e.l, out); referencedNames(e.r, out); break;
    case 'similar': referencedNames(e.e, out); referencedNames(e.pattern, out); if (e.escape) referencedNames(e.escape, out); break;
    case 'interval': break;
  }
  return out;
}
