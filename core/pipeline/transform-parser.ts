import { TidemarkError } from '../errors';

/**
 * Parser for Flink CDC transform expressions (projection items and filters).
 *
 * Why hand-written: Flink CDC parses these with Apache Calcite and evaluates them with Janino,
 * i.e. a full SQL dialect whose reach is defined by what its code generator happens to support.
 * We need a small, explicitly listed subset whose every rejection is a typed error naming the
 * construct (`CASE`, `CAST`, a function name) and the column where it starts — something a
 * generic SQL parser library would neither give us nor keep stable. The grammar fits in one
 * page of recursive descent, so it stays easy to check against the Flink CDC docs.
 *
 * Grammar (lowest precedence first):
 *   or      := and (OR and)*
 *   and     := not (AND not)*
 *   not     := NOT not | predicate
 *   predicate := additive [ (=|<>|!=|<|<=|>|>=) additive
 *                          | IS [NOT] (NULL|TRUE|FALSE)
 *                          | [NOT] IN ( expr, ... ) | [NOT] LIKE additive [ESCAPE additive]
 *                          | [NOT] BETWEEN additive AND additive ]
 *   additive := multiplicative ((+|-|'||') multiplicative)*
 *   multiplicative := unary ((*|/|%) unary)*
 *   unary   := (-|+) unary | primary
 *   primary := number | 'string' | TRUE | FALSE | NULL | name | `name` | name ( args ) | ( or )
 */
export type Literal = null | boolean | number | string;

export type Expr =
  | { k: 'lit'; value: Literal }
  | { k: 'col'; name: string }
  | { k: 'neg'; e: Expr }
  | { k: 'not'; e: Expr }
  | { k: 'bin'; op: BinaryOp; l: Expr; r: Expr }
  | { k: 'isnull'; e: Expr; not: boolean }
  | { k: 'istruth'; e: Expr; value: boolean; not: boolean }
  | { k: 'in'; e: Expr; list: Expr[]; not: boolean }
  | { k: 'like'; e: Expr; pattern: Expr; escape: Expr | null; not: boolean }
  | { k: 'between'; e: Expr; lo: Expr; hi: Expr; not: boolean }
  | { k: 'call'; name: string; args: Expr[] };

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '||' | '=' | '<>' | '<' | '<=' | '>' | '>=' | 'AND' | 'OR';

interface Token {
  t: 'num' | 'str' | 'id' | 'qid' | 'op' | 'star' | 'eof';
  v: string;
  /** 1-based column in the expression text. */
  col: number;
}

/** Function name → [min args, max args]. Everything else is Unsupported, named. */
export const SUPPORTED_FUNCTIONS: Record<string, [number, number]> = {
  ABS: [1, 1], CEIL: [1, 1], CEILING: [1, 1], FLOOR: [1, 1], ROUND: [1, 2],
  UPPER: [1, 1], LOWER: [1, 1], TRIM: [1, 1], CHAR_LENGTH: [1, 1], CHARACTER_LENGTH: [1, 1],
  CONCAT: [1, 255], SUBSTR: [2, 3], SUBSTRING: [2, 3], COALESCE: [1, 255],
};

// SQL words we recognise only to reject them by name instead of as a confusing syntax error.
const UNSUPPORTED_WORDS = new Set(['CASE', 'CAST', 'TRY_CAST', 'SELECT', 'EXISTS', 'INTERVAL', 'OVER', 'WHEN', 'THEN', 'ELSE', 'END', 'SIMILAR', 'ANY', 'ALL', 'SOME', 'DISTINCT', 'ROW', 'ARRAY', 'MAP']);
const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IS', 'NULL', 'TRUE', 'FALSE', 'IN', 'LIKE', 'BETWEEN', 'AS', 'ESCAPE']);
const MAX_DEPTH = 100;

function syntax(message: string, col: number): TidemarkError {
  return new TidemarkError('InvalidInput', `${message} (column ${col})`, { column: col });
}

export function unsupported(construct: string, col: number): TidemarkError {
  return new TidemarkError('Unsupported', `${construct} is not supported in transform expressions (column ${col})`, { construct, column: col });
}

export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const col = i + 1;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '\\' && text[i + 1] === '*') {
      // `\*` is how YAML files write `*` (a plain scalar cannot start with an alias marker).
      out.push({ t: 'star', v: '*', col });
      i += 2;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(i))!;
      out.push({ t: 'num', v: m[0], col });
      i += m[0].length;
    } else if (c === "'") {
      let s = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw syntax('unterminated string literal', col);
        if (text[j] === "'") {
          if (text[j + 1] === "'") {
            s += "'";
            j += 2;
            continue;
          }
          break;
        }
        s += text[j++];
      }
      out.push({ t: 'str', v: s, col });
      i = j + 1;
    } else if (c === '`') {
      const end = text.indexOf('`', i + 1);
      if (end < 0) throw syntax('unterminated `quoted` identifier', col);
      out.push({ t: 'qid', v: text.slice(i + 1, end), col });
      i = end + 1;
    } else if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z_$][\w$]*/.exec(text.slice(i))!;
      out.push({ t: 'id', v: m[0], col });
      i += m[0].length;
    } else {
      const two = text.slice(i, i + 2);
      if (['<>', '!=', '<=', '>=', '||'].includes(two)) {
        out.push({ t: 'op', v: two === '!=' ? '<>' : two, col });
        i += 2;
      } else if ('=<>+-*/%(),.'.includes(c)) {
        out.push({ t: 'op', v: c, col });
        i++;
      } else if (c === '"') {
        throw syntax('double quotes are not string quotes here: write \'text\' for a string or `name` for a column', col);
      } else {
        throw syntax(`unexpected character ${JSON.stringify(c)}`, col);
      }
    }
  }
  out.push({ t: 'eof', v: '', col: text.length + 1 });
  return out;
}

export class ExprParser {
  private pos = 0;
  private depth = 0;
  private readonly tokens: Token[];

  constructor(text: string) {
    this.tokens = tokenize(text);
  }

  peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)]!;
  }
  next(): Token {
    return this.tokens[Math.min(this.pos++, this.tokens.length - 1)]!;
  }
  isWord(word: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.t === 'id' && t.v.toUpperCase() === word;
  }
  isOp(op: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === op;
  }
  expectOp(op: string): void {
    if (!this.isOp(op)) throw syntax(`expected "${op}", found ${this.describe(this.peek())}`, this.peek().col);
    this.pos++;
  }
  expectWord(word: string): void {
    if (!this.isWord(word)) throw syntax(`expected ${word}, found ${this.describe(this.peek())}`, this.peek().col);
    this.pos++;
  }
  describe(t: Token): string {
    return t.t === 'eof' ? 'end of expression' : t.t === 'str' ? `'${t.v}'` : `"${t.v}"`;
  }
  atEnd(): boolean {
    return this.peek().t === 'eof';
  }

  parseExpr(): Expr {
    if (++this.depth > MAX_DEPTH) throw syntax(`expression nested deeper than ${MAX_DEPTH} levels`, this.peek().col);
    try {
      return this.parseOr();
    } finally {
      this.depth--;
    }
  }

  private parseOr(): Expr {
    let l = this.parseAnd();
    while (this.isWord('OR')) {
      this.pos++;
      l = { k: 'bin', op: 'OR', l, r: this.parseAnd() };
    }
    return l;
  }

  private parseAnd(): Expr {
    let l = this.parseNot();
    while (this.isWord('AND')) {
      this.pos++;
      l = { k: 'bin', op: 'AND', l, r: this.parseNot() };
    }
    return l;
  }

  private parseNot(): Expr {
    if (this.isWord('NOT')) {
      this.pos++;
      if (++this.depth > MAX_DEPTH) throw syntax(`expression nested deeper than ${MAX_DEPTH} levels`, this.peek().col);
      try {
        return { k: 'not', e: this.parseNot() };
      } finally {
        this.depth--;
      }
    }
    return this.parsePredicate();
  }

  private parsePredicate(): Expr {
    const e = this.parseAdditive();
    const t = this.peek();
    if (t.t === 'op' && ['=', '<>', '<', '<=', '>', '>='].includes(t.v)) {
      this.pos++;
      return { k: 'bin', op: t.v as BinaryOp, l: e, r: this.parseAdditive() };
    }
    if (this.isWord('IS')) {
      this.pos++;
      const not = this.isWord('NOT');
      if (not) this.pos++;
      const w = this.next();
      const word = w.t === 'id' ? w.v.toUpperCase() : '';
      if (word === 'NULL') return { k: 'isnull', e, not };
      if (word === 'TRUE' || word === 'FALSE') return { k: 'istruth', e, value: word === 'TRUE', not };
      if (word === 'DISTINCT') throw unsupported('IS DISTINCT FROM', w.col);
      if (word === 'UNKNOWN') throw unsupported('IS UNKNOWN', w.col);
      throw syntax(`expected NULL, TRUE or FALSE after IS, found ${this.describe(w)}`, w.col);
    }
    const not = this.isWord('NOT') && (this.isWord('IN', 1) || this.isWord('LIKE', 1) || this.isWord('BETWEEN', 1) || this.isWord('SIMILAR', 1));
    if (not) this.pos++;
    if (this.isWord('IN')) {
      this.pos++;
      this.expectOp('(');
      if (this.isWord('SELECT')) throw unsupported('IN (subquery)', this.peek().col);
      const list = [this.parseExpr()];
      while (this.isOp(',')) {
        this.pos++;
        list.push(this.parseExpr());
      }
      this.expectOp(')');
      return { k: 'in', e, list, not };
    }
    if (this.isWord('LIKE')) {
      this.pos++;
      const pattern = this.parseAdditive();
      let escape: Expr | null = null;
      if (this.isWord('ESCAPE')) {
        this.pos++;
        escape = this.parseAdditive();
      }
      return { k: 'like', e, pattern, escape, not };
    }
    if (this.isWord('BETWEEN')) {
      this.pos++;
      if (this.isWord('SYMMETRIC') || this.isWord('ASYMMETRIC')) throw unsupported(`BETWEEN ${this.peek().v.toUpperCase()}`, this.peek().col);
      const lo = this.parseAdditive();
      this.expectWord('AND');
      return { k: 'between', e, lo, hi: this.parseAdditive(), not };
    }
    if (this.isWord('SIMILAR')) throw unsupported('SIMILAR TO', this.peek().col);
    return e;
  }

  private parseAdditive(): Expr {
    let l = this.parseMultiplicative();
    for (;;) {
      const t = this.peek();
      if (t.t !== 'op' || !['+', '-', '||'].includes(t.v)) return l;
      this.pos++;
      l = { k: 'bin', op: t.v as BinaryOp, l, r: this.parseMultiplicative() };
    }
  }

  private parseMultiplicative(): Expr {
    let l = this.parseUnary();
    for (;;) {
      const t = this.peek();
      const op = t.t === 'star' ? '*' : t.t === 'op' && ['*', '/', '%'].includes(t.v) ? t.v : null;
      if (op === null) return l;
      this.pos++;
      l = { k: 'bin', op: op as BinaryOp, l, r: this.parseUnary() };
    }
  }

  private parseUnary(): Expr {
    if (this.isOp('-') || this.isOp('+')) {
      const minus = this.next().v === '-';
      if (++this.depth > MAX_DEPTH) throw syntax(`expression nested deeper than ${MAX_DEPTH} levels`, this.peek().col);
      try {
        const e = this.parseUnary();
        return minus ? { k: 'neg', e } : e;
      } finally {
        this.depth--;
      }
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Expr {
    const t = this.next();
    if (t.t === 'num') return { k: 'lit', value: Number(t.v) };
    if (t.t === 'str') return { k: 'lit', value: t.v };
    if (t.t === 'qid') return { k: 'col', name: t.v };
    if (t.t === 'op' && t.v === '(') {
      if (this.isWord('SELECT')) throw unsupported('subquery', this.peek().col);
      const e = this.parseExpr();
      this.expectOp(')');
      return e;
    }
    if (t.t === 'id') {
      const upper = t.v.toUpperCase();
      if (upper === 'NULL') return { k: 'lit', value: null };
      if (upper === 'TRUE' || upper === 'FALSE') return { k: 'lit', value: upper === 'TRUE' };
      if (UNSUPPORTED_WORDS.has(upper)) throw unsupported(upper, t.col);
      if (KEYWORDS.has(upper)) throw syntax(`expected a value, found keyword ${upper}`, t.col);
      if (this.isOp('(')) return this.parseCall(t);
      if (this.isOp('.')) throw unsupported(`qualified name ${t.v}.${this.peek(1).v}`, t.col);
      return { k: 'col', name: t.v };
    }
    if (t.t === 'star') throw syntax('* is only allowed as a whole projection item', t.col);
    throw syntax(`expected a value, found ${this.describe(t)}`, t.col);
  }

  private parseCall(name: Token): Expr {
    const upper = name.v.toUpperCase();
    const arity = SUPPORTED_FUNCTIONS[upper];
    if (!arity) throw unsupported(`function ${upper}()`, name.col);
    this.expectOp('(');
    const args: Expr[] = [];
    if (!this.isOp(')')) {
      args.push(this.parseExpr());
      while (this.isOp(',')) {
        this.pos++;
        args.push(this.parseExpr());
      }
    }
    this.expectOp(')');
    if (args.length < arity[0] || args.length > arity[1]) {
      const expected = arity[0] === arity[1] ? `${arity[0]}` : `${arity[0]} to ${arity[1]}`;
      throw syntax(`${upper}() takes ${expected} argument(s), found ${args.length}`, name.col);
    }
    return { k: 'call', name: upper, args };
  }
}

/** Parses a whole filter expression. Throws TidemarkError InvalidInput or Unsupported. */
export function parseExpression(text: string): Expr {
  const p = new ExprParser(text);
  if (p.atEnd()) throw syntax('expected an expression, found nothing', 1);
  const e = p.parseExpr();
  if (!p.atEnd()) throw syntax(`unexpected ${p.describe(p.peek())} after the expression`, p.peek().col);
  return e;
}

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
  }
  return out;
}
