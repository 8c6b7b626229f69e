import { TidemarkError } from '../../errors';
import { notForMySql, syntax, tokenize, unsupported, type Token } from './lexer';
import { parseType, type FlinkType } from './types';
import type { BinaryOp, Expr } from './ast';

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
 *                          | IS [NOT] (NULL|TRUE|FALSE|UNKNOWN|DISTINCT FROM additive)
 *                          | [NOT] IN ( expr, ... ) | [NOT] (LIKE|SIMILAR TO) additive [ESCAPE additive]
 *                          | [NOT] BETWEEN additive AND additive ]
 *   additive := multiplicative ((+|-|'||') multiplicative)*
 *   multiplicative := unary ((*|/|%) unary)*
 *   unary   := (-|+) unary | primary
 *   primary := number | 'string' | TRUE | FALSE | NULL | name | `name` | name ( args ) | ( or )
 *            | CASE [expr] (WHEN expr[, expr]* THEN expr)+ [ELSE expr] END
 *            | (CAST|TRY_CAST) ( expr AS type ) | INTERVAL 'n' unit
 *            | SUBSTRING(s FROM a [FOR b]) | POSITION(a IN b [FROM c]) | OVERLAY(s PLACING t FROM a [FOR b])
 *            | TRIM([BOTH|LEADING|TRAILING] [chars] FROM s) | EXTRACT(unit FROM t)
 *            | TIMESTAMPADD(unit, n, t) | TIMESTAMPDIFF(unit, a, b) | CURRENT_DATE and the other niladic words
 *
 * Which functions exist, and their arity, is the function table's business (functions/index.ts):
 * the parser takes any `name(args)` and the compiler rejects unknown names with their column.
 */
const UNSUPPORTED_WORDS = new Set(['SELECT', 'EXISTS', 'OVER', 'ANY', 'ALL', 'SOME', 'DISTINCT']);
const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IS', 'NULL', 'TRUE', 'FALSE', 'IN', 'LIKE', 'BETWEEN', 'AS', 'ESCAPE', 'WHEN', 'THEN', 'ELSE', 'END', 'SIMILAR', 'FROM', 'FOR', 'PLACING']);
/** Functions SQL lets you call without parentheses. */
const NILADIC = new Set(['CURRENT_DATE', 'CURRENT_TIME', 'CURRENT_TIMESTAMP', 'LOCALTIME', 'LOCALTIMESTAMP', 'NOW', 'UNIX_TIMESTAMP']);
/** Time units, as TIMESTAMPADD/TIMESTAMPDIFF/EXTRACT and INTERVAL take them. */
const UNITS = new Set(['YEAR', 'QUARTER', 'MONTH', 'WEEK', 'DAY', 'HOUR', 'MINUTE', 'SECOND', 'MILLISECOND', 'MICROSECOND', 'NANOSECOND', 'DOY', 'DOW', 'YEARS', 'MONTHS', 'DAYS', 'HOURS', 'MINUTES', 'SECONDS', 'FRAC_SECOND', 'SQL_TSI_YEAR', 'SQL_TSI_MONTH', 'SQL_TSI_DAY', 'SQL_TSI_HOUR', 'SQL_TSI_MINUTE', 'SQL_TSI_SECOND']);
const MAX_DEPTH = 100;

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
      if (word === 'UNKNOWN') return { k: 'isunknown', e, not };
      if (word === 'DISTINCT') {
        this.expectWord('FROM');
        return { k: 'distinct', l: e, r: this.parseAdditive(), not };
      }
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
    if (this.isWord('LIKE') || this.isWord('SIMILAR')) {
      const similar = this.isWord('SIMILAR');
      this.pos++;
      if (similar) this.expectWord('TO');
      const pattern = this.parseAdditive();
      let escape: Expr | null = null;
      if (this.isWord('ESCAPE')) {
        this.pos++;
        escape = this.parseAdditive();
      }
      return { k: similar ? 'similar' : 'like', e, pattern, escape, not };
    }
    if (this.isWord('BETWEEN')) {
      this.pos++;
      if (this.isWord('SYMMETRIC') || this.isWord('ASYMMETRIC')) throw unsupported(`BETWEEN ${this.peek().v.toUpperCase()}`, this.peek().col);
      const lo = this.parseAdditive();
      this.expectWord('AND');
      return { k: 'between', e, lo, hi: this.parseAdditive(), not };
    }
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
    const e = this.parsePrimary();
    if (this.isOp('[')) throw notForMySql('subscript [ ]', 'it reads ARRAY, MAP, ROW or VARIANT values, which a MySQL source does not produce', this.peek().col);
    return e;
  }

  private parsePrimary(): Expr {
    const t = this.next();
    if (t.t === 'num') return { k: 'lit', value: Number(t.v), raw: t.v };
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
      if (upper === 'CASE') return this.parseCase();
      if (upper === 'INTERVAL') return this.parseInterval(t);
      if (['ARRAY', 'MAP', 'ROW', 'MULTISET'].includes(upper)) throw notForMySql(`${upper} constructor`, `${upper} values do not come from a MySQL source and Tidemark's Iceberg tables have no such columns`, t.col);
      if (UNSUPPORTED_WORDS.has(upper)) throw unsupported(upper, t.col);
      if (KEYWORDS.has(upper)) throw syntax(`expected a value, found keyword ${upper}`, t.col);
      if (this.isOp('(')) return this.parseCall(t);
      if (NILADIC.has(upper)) return { k: 'call', name: upper, args: [], col: t.col };
      if (this.isOp('.')) throw unsupported(`qualified name ${t.v}.${this.peek(1).v}`, t.col);
      return { k: 'col', name: t.v };
    }
    if (t.t === 'star') throw syntax('* is only allowed as a whole projection item', t.col);
    throw syntax(`expected a value, found ${this.describe(t)}`, t.col);
  }

  private parseCase(): Expr {
    const operand = this.isWord('WHEN') ? null : this.parseExpr();
    const whens: { when: Expr[]; then: Expr }[] = [];
    while (this.isWord('WHEN')) {
      this.pos++;
      const when = [this.parseExpr()];
      while (operand && this.isOp(',')) {
        this.pos++;
        when.push(this.parseExpr());
      }
      this.expectWord('THEN');
      whens.push({ when, then: this.parseExpr() });
    }
    if (whens.length === 0) throw syntax(`expected WHEN, found ${this.describe(this.peek())}`, this.peek().col);
    let otherwise: Expr | null = null;
    if (this.isWord('ELSE')) {
      this.pos++;
      otherwise = this.parseExpr();
    }
    this.expectWord('END');
    return { k: 'case', operand, whens, else: otherwise };
  }

  private parseInterval(t: Token): Expr {
    const amount = this.next();
    if (amount.t !== 'str' && amount.t !== 'num') throw syntax(`expected the amount of an INTERVAL, found ${this.describe(amount)}`, amount.col);
    const unit = this.next();
    const word = unit.t === 'id' ? unit.v.toUpperCase() : '';
    if (!UNITS.has(word)) throw syntax(`expected a time unit after INTERVAL ${amount.v}, found ${this.describe(unit)}`, unit.col);
    let unitText = word.replace(/S$/, '');
    if (this.isWord('TO')) {
      this.pos++;
      const end = this.next();
      const endWord = end.t === 'id' ? end.v.toUpperCase().replace(/S$/, '') : '';
      if (!UNITS.has(endWord)) throw syntax(`expected a time unit after TO, found ${this.describe(end)}`, end.col);
      unitText = `${unitText} TO ${endWord}`;
    }
    return { k: 'interval', amount: amount.v, unit: unitText, col: t.col };
  }

  /** Reads a type name up to the closing parenthesis of CAST(x AS …). */
  private parseTypeName(): FlinkType {
    const start = this.peek();
    let text = '';
    let depth = 0;
    while (!this.atEnd() && !(depth === 0 && this.isOp(')'))) {
      const tok = this.next();
      if (tok.t === 'op' && (tok.v === '(' || tok.v === '<')) depth++;
      if (tok.t === 'op' && (tok.v === ')' || tok.v === '>')) depth--;
      text += tok.t === 'op' && tok.v === ',' ? ', ' : text && tok.t === 'id' && !text.endsWith('(') && !text.endsWith('<') ? ` ${tok.v}` : tok.v;
    }
    if (!text) throw syntax(`expected a type name, found ${this.describe(start)}`, start.col);
    try {
      return parseType(text);
    } catch (e) {
      const err = e as TidemarkError;
      throw new TidemarkError(err.code, `${err.message} (column ${start.col})`, { column: start.col });
    }
  }

  private unitArg(): Expr {
    const tok = this.next();
    const word = tok.t === 'id' || tok.t === 'str' ? tok.v.toUpperCase() : '';
    if (!UNITS.has(word)) throw syntax(`expected a time unit (YEAR, MONTH, DAY, HOUR, …), found ${this.describe(tok)}`, tok.col);
    return { k: 'lit', value: word.replace(/^SQL_TSI_/, '') };
  }

  private parseCall(name: Token): Expr {
    const upper = name.v.toUpperCase();
    this.expectOp('(');
    let args: Expr[];
    if (upper === 'CAST' || upper === 'TRY_CAST') {
      const e = this.parseExpr();
      this.expectWord('AS');
      const type = this.parseTypeName();
      this.expectOp(')');
      return { k: 'cast', e, type, try: upper === 'TRY_CAST', col: name.col };
    } else if (upper === 'EXTRACT') {
      const unit = this.unitArg();
      this.expectWord('FROM');
      args = [unit, this.parseExpr()];
    } else if (upper === 'TIMESTAMPADD' || upper === 'TIMESTAMPDIFF' || upper === 'TIMESTAMP_DIFF') {
      args = [this.unitArg()];
      while (this.isOp(',')) {
        this.pos++;
        args.push(this.parseExpr());
      }
    } else if (upper === 'TRIM' && (this.isWord('BOTH') || this.isWord('LEADING') || this.isWord('TRAILING') || !this.isOp(')'))) {
      let mode = 'BOTH';
      if (this.isWord('BOTH') || this.isWord('LEADING') || this.isWord('TRAILING')) mode = this.next().v.toUpperCase();
      let chars: Expr | null = this.isWord('FROM') ? null : this.parseExpr();
      let subject: Expr;
      if (this.isWord('FROM')) {
        this.pos++;
        subject = this.parseExpr();
      } else {
        if (chars === null) throw syntax('expected a string to trim', this.peek().col);
        subject = chars;
        chars = null;
      }
      args = [{ k: 'lit', value: mode }, chars ?? { k: 'lit', value: ' ' }, subject];
      this.expectOp(')');
      return { k: 'call', name: 'TRIM', args, col: name.col };
    } else if (this.isOp(')')) {
      args = [];
    } else if (upper === 'POSITION') {
      // POSITION(a IN b): `a IN b` must not parse as the IN predicate.
      args = [this.parseAdditive()];
      if (this.isWord('IN')) {
        this.pos++;
        args.push(this.parseExpr());
        if (this.isWord('FROM')) {
          this.pos++;
          args.push(this.parseExpr());
        }
      } else {
        while (this.isOp(',')) {
          this.pos++;
          args.push(this.parseExpr());
        }
      }
    } else {
      args = [this.parseExpr()];
      const keyword = (w: string) => {
        if (!this.isWord(w)) return false;
        this.pos++;
        return true;
      };
      if ((upper === 'SUBSTRING' || upper === 'SUBSTR') && keyword('FROM')) {
        args.push(this.parseExpr());
        if (keyword('FOR')) args.push(this.parseExpr());
      } else if (upper === 'OVERLAY' && keyword('PLACING')) {
        args.push(this.parseExpr());
        this.expectWord('FROM');
        args.push(this.parseExpr());
        if (keyword('FOR')) args.push(this.parseExpr());
      } else {
        while (this.isOp(',')) {
          this.pos++;
          args.push(this.parseExpr());
        }
      }
    }
    this.expectOp(')');
    return { k: 'call', name: upper, args, col: name.col };
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

export { notForMySql, tokenize, unsupported };
export { referencedNames, type BinaryOp, type Expr, type Literal } from './ast';
