/**
 * A small SQL tokenizer for the DDL statements found in binlog query events. Comments are dropped,
 * except version-conditional ones (`/*!50100 … *\/`, `/*M!100301 … *\/`), whose body the server
 * executed and therefore belongs to the statement.
 */
export type Token =
  | { kind: 'word'; text: string; upper: string }
  | { kind: 'ident'; text: string } // `quoted`
  | { kind: 'string'; text: string; raw: string }
  | { kind: 'number'; text: string }
  | { kind: 'punct'; text: string };

export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end;
      const body = sql.slice(i + 2, stop);
      const exec = /^(?:!|M!)(\d{5,6})?/.exec(body);
      if (exec) out.push(...tokenize(body.slice(exec[0].length)));
      i = stop + 2;
      continue;
    }
    if ((c === '-' && sql[i + 1] === '-' && /\s/.test(sql[i + 2] ?? ' ')) || c === '#') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
      continue;
    }
    if (c === '`') {
      let j = i + 1;
      let text = '';
      while (j < n) {
        if (sql[j] === '`') {
          if (sql[j + 1] === '`') {
            text += '`';
            j += 2;
            continue;
          }
          break;
        }
        text += sql[j];
        j++;
      }
      out.push({ kind: 'ident', text });
      i = j + 1;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      let text = '';
      while (j < n) {
        const d = sql[j]!;
        if (d === '\\' && j + 1 < n) {
          text += sql[j + 1];
          j += 2;
          continue;
        }
        if (d === c) {
          if (sql[j + 1] === c) {
            text += c;
            j += 2;
            continue;
          }
          break;
        }
        text += d;
        j++;
      }
      out.push({ kind: 'string', text, raw: sql.slice(i, j + 1) });
      i = j + 1;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      const m = /^[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?/.exec(sql.slice(i))!;
      // Identifiers may start with digits (e.g. 1col): treat digit-led words as words.
      const w = /^[0-9]+[A-Za-z_$][A-Za-z0-9_$]*/.exec(sql.slice(i));
      if (w) {
        out.push({ kind: 'word', text: w[0], upper: w[0].toUpperCase() });
        i += w[0].length;
      } else {
        out.push({ kind: 'number', text: m[0] });
        i += m[0].length;
      }
      continue;
    }
    if (/[A-Za-z_$@\u0080-\uffff]/.test(c)) {
      const m = /^[A-Za-z0-9_$@\u0080-\uffff]+/.exec(sql.slice(i))!;
      out.push({ kind: 'word', text: m[0], upper: m[0].toUpperCase() });
      i += m[0].length;
      continue;
    }
    out.push({ kind: 'punct', text: c });
    i++;
  }
  return out;
}

/** A cursor over tokens with the small vocabulary the DDL parser needs. */
export class TokenCursor {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  peek(offset = 0): Token | undefined {
    return this.tokens[this.i + offset];
  }
  next(): Token | undefined {
    return this.tokens[this.i++];
  }
  atEnd(): boolean {
    return this.i >= this.tokens.length || (this.peek()?.kind === 'punct' && this.peek()!.text === ';' && this.i === this.tokens.length - 1);
  }
  /** True (and consumed) when the next tokens are these keywords. */
  acceptWords(...words: string[]): boolean {
    for (let k = 0; k < words.length; k++) {
      const t = this.peek(k);
      if (!t || t.kind !== 'word' || t.upper !== words[k]) return false;
    }
    this.i += words.length;
    return true;
  }
  isWord(word: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t?.kind === 'word' && t.upper === word;
  }
  acceptPunct(p: string): boolean {
    const t = this.peek();
    if (t?.kind === 'punct' && t.text === p) {
      this.i++;
      return true;
    }
    return false;
  }
  isPunct(p: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t?.kind === 'punct' && t.text === p;
  }
  /** Skips tokens up to (not including) a `,` or `)` at depth 0, or the end. */
  skipElement(): void {
    let depth = 0;
    while (this.i < this.tokens.length) {
      const t = this.tokens[this.i]!;
      if (t.kind === 'punct') {
        if (t.text === '(') depth++;
        else if (t.text === ')') {
          if (depth === 0) return;
          depth--;
        } else if ((t.text === ',' || t.text === ';') && depth === 0) return;
      }
      this.i++;
    }
  }
}
