/**
 * Bigint-safe JSON for Iceberg metadata. Snapshot ids are random 63-bit values and routinely exceed
 * 2^53, where `JSON.parse` silently rounds them (and Node 20's V8 has no reviver source access).
 * We pre-scan the text once: every integer literal outside a string whose digits could exceed
 * Number.MAX_SAFE_INTEGER is wrapped into a tagged string, which the reviver turns into a bigint.
 * Hand-written because no dependency of ours parses JSON losslessly; it is a tokenizer, not a parser:
 * JSON.parse still validates the syntax.
 */
const TAG = '\u0000bigint:';

export function parseJsonBigint(text: string): unknown {
  let out = '';
  let last = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) i += 2;
        else if (d === 34) break;
        else i++;
      }
      i++;
      continue;
    }
    if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      const start = i;
      i++;
      while (i < n && isNumberChar(text.charCodeAt(i))) i++;
      const token = text.slice(start, i);
      if (/^-?\d{16,}$/.test(token) && !Number.isSafeInteger(Number(token))) {
        out += text.slice(last, start) + JSON.stringify(TAG + token);
        last = i;
      }
      continue;
    }
    i++;
  }
  const source = last === 0 ? text : out + text.slice(last);
  return JSON.parse(source, (_key, value: unknown) =>
    typeof value === 'string' && value.startsWith(TAG) ? BigInt(value.slice(TAG.length)) : value,
  );
}

function isNumberChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45;
}

/** JSON with bigint written as bare integer literals (lossless), indented like Java's writer. */
export function stringifyJsonBigint(value: unknown, indent = 2): string {
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? TAG + v.toString() : v), indent);
  return text.replace(/"\\u0000bigint:(-?\d+)"/g, '$1');
}
