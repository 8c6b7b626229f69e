import { civilFromDays, daysFromCivil, floorDiv, NANOS_PER_DAY, dataError } from '../values';

/**
 * java.time DateTimeFormatter patterns (the letters Flink CDC's DATE_FORMAT, TO_DATE,
 * TO_TIMESTAMP and FROM_UNIXTIME take): formatting wall-clock ns and parsing text back.
 */
const NS = 1_000_000_000n;

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

export function fields(wall: bigint) {
  const days = floorDiv(wall, NANOS_PER_DAY);
  const nod = wall - days * NANOS_PER_DAY;
  const [y, mo, d] = civilFromDays(Number(days));
  const secs = Number(nod / NS);
  const dow = ((Number(days) % 7) + 7 + 3) % 7; // 1970-01-01 was a Thursday; 0 = Monday
  return { y, mo, d, h: Math.floor(secs / 3600), mi: Math.floor(secs / 60) % 60, s: secs % 60, nano: Number(nod % NS), dow, doy: Number(days) - daysFromCivil(y, 1, 1) + 1 };
}

const tokenCache = new Map<string, string[]>();

/** A pattern's tokens (letter runs, or `'`-prefixed literal text), cached: patterns are constants in practice. */
function tokens(pattern: string): string[] {
  const hit = tokenCache.get(pattern);
  if (hit) return hit;
  const out = tokenize(pattern);
  if (tokenCache.size > 200) tokenCache.clear();
  tokenCache.set(pattern, out);
  return out;
}

function tokenize(pattern: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < pattern.length;) {
    const c = pattern[i]!;
    if (c === "'") {
      const end = pattern.indexOf("'", i + 1);
      out.push(`'${end < 0 ? pattern.slice(i + 1) : pattern.slice(i + 1, end)}`);
      i = end < 0 ? pattern.length : end + 1;
    } else if (/[A-Za-z]/.test(c)) {
      let j = i;
      while (pattern[j] === c) j++;
      out.push(pattern.slice(i, j));
      i = j;
    } else {
      out.push(`'${c}`);
      i++;
    }
  }
  return out;
}

export function formatPattern(wall: bigint, pattern: string, offsetSeconds = 0): string {
  const f = fields(wall);
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  return tokens(pattern).map((tok) => {
    if (tok.startsWith("'")) return tok.slice(1);
    const n = tok.length;
    switch (tok[0]) {
      case 'y': case 'u': return n === 2 ? pad(f.y % 100, 2) : pad(f.y, n);
      case 'M': case 'L': return n >= 4 ? MONTHS[f.mo - 1]! : n === 3 ? MONTHS[f.mo - 1]!.slice(0, 3) : pad(f.mo, n);
      case 'd': return pad(f.d, n);
      case 'D': return pad(f.doy, n);
      case 'H': return pad(f.h, n);
      case 'k': return pad(f.h === 0 ? 24 : f.h, n);
      case 'h': return pad(f.h % 12 === 0 ? 12 : f.h % 12, n);
      case 'K': return pad(f.h % 12, n);
      case 'm': return pad(f.mi, n);
      case 's': return pad(f.s, n);
      case 'S': return pad(f.nano, 9).slice(0, n).padEnd(n, '0');
      case 'a': return f.h < 12 ? 'AM' : 'PM';
      case 'E': return n >= 4 ? DAYS[f.dow]! : DAYS[f.dow]!.slice(0, 3);
      case 'e': return String(f.dow + 1);
      case 'X': case 'x': case 'Z': {
        if (offsetSeconds === 0 && tok[0] === 'X') return 'Z';
        const a = Math.abs(offsetSeconds);
        const hh = pad(Math.floor(a / 3600), 2);
        const mm = pad(Math.floor(a / 60) % 60, 2);
        return `${offsetSeconds < 0 ? '-' : '+'}${hh}${n >= 3 || tok[0] === 'Z' ? (n === 3 ? `:${mm}` : mm) : ''}`;
      }
    }
    throw dataError(`date pattern letter ${tok[0]} is not supported (in ${JSON.stringify(pattern)})`);
  }).join('');
}

/** Parses text with a java.time pattern → wall ns; null when it does not match. */
export function parsePattern(text: string, pattern: string): bigint | null {
  let src = '';
  const order: string[] = [];
  for (const tok of tokens(pattern)) {
    if (tok.startsWith("'")) {
      src += tok.slice(1).replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
      continue;
    }
    const c = tok[0]!;
    if ('yuMdHhmsSD'.includes(c)) {
      // Letter count = digit count when a field has 2+ letters (java.time's adjacent value parsing: yyyyMMdd).
      src += c === 'S' ? `(\\d{${tok.length}})` : tok.length >= 2 ? `(\\d{${tok.length}})` : '(\\d{1,9})';
      order.push(c);
    } else if (c === 'a') {
      src += '(AM|PM|am|pm)';
      order.push('a');
    } else {
      return null;
    }
  }
  const m = new RegExp(`^\\s*${src}\\s*$`).exec(text);
  if (!m) return null;
  let y = 1970, mo = 1, d = 1, h = 0, mi = 0, s = 0, frac = '0', pm = false;
  order.forEach((c, i) => {
    const v = m[i + 1]!;
    switch (c) {
      case 'y': case 'u': y = v.length === 2 ? 2000 + Number(v) : Number(v); break;
      case 'M': mo = Number(v); break;
      case 'd': d = Number(v); break;
      case 'H': case 'h': h = Number(v); break;
      case 'm': mi = Number(v); break;
      case 's': s = Number(v); break;
      case 'S': frac = v; break;
      case 'a': pm = v.toUpperCase() === 'PM'; break;
    }
  });
  if (order.includes('a') && pm && h < 12) h += 12;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  const days = daysFromCivil(y, mo, d);
  if (civilFromDays(days)[2] !== d) return null;
  return BigInt(days) * NANOS_PER_DAY + BigInt(h * 3600 + mi * 60 + s) * NS + BigInt(frac.padEnd(9, '0').slice(0, 9));
}

