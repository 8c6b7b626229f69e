import { TidemarkError } from '../../errors';

/**
 * Tokens of transform expressions, and the errors every stage of the parser raises: InvalidInput
 * for syntax (with the 1-based column), Unsupported for a construct Tidemark refuses by name.
 */
export interface Token {
  t: 'num' | 'str' | 'id' | 'qid' | 'op' | 'star' | 'eof';
  v: string;
  /** 1-based column in the expression text. */
  col: number;
}

// SQL words we recognise only to reject them by name instead of as a confusing syntax error.

export function syntax(message: string, col: number): TidemarkError {
  return new TidemarkError('InvalidInput', `${message} (column ${col})`, { column: col });
}

/**
 * A construct that only applies to ARRAY/MAP/ROW/VARIANT values, which a MySQL source never
 * produces: Unsupported with `notForMySql` in the context (the conformance runner skips on it).
 */
export function notForMySql(construct: string, reason: string, col?: number): TidemarkError {
  const at = col === undefined ? '' : ` (column ${col})`;
  return new TidemarkError('Unsupported', `${construct} is not supported in transform expressions: ${reason}${at}`, { construct, column: col ?? null, notForMySql: true });
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
      } else if ('=<>+-*/%(),.[]'.includes(c)) {
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
