/**
 * zongji's DATETIME / TIMESTAMP text (`YYYY-MM-DD HH:MM:SS[.f…]`, dateStrings, timezone 'Z') to µs
 * since the epoch and back, exactly: the binlog reader holds such values as µs (binlog-rows.ts) and
 * restores the text where a consumer needs the driver's form.
 */
import { civilFromDays, daysFromCivil, readDigits as digitsAt } from '../lake/values';

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * µs since 1970-01-01 00:00:00 (UTC wall clock) of a valid date-time in exactly the form above, as a
 * Number; NaN for anything else (zero or partly zero dates, invalid days, other layouts, values
 * beyond 2^53 µs), which the caller keeps as text. Its fraction digits are `s.length - 20` (0 for
 * 19 characters). The value equals type-map's parseDateTimeMicros for every text accepted here.
 */
export function readDateTimeText(s: string): number {
  const len = s.length;
  if (len !== 19 && (len < 21 || len > 26)) return NaN;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 32 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return NaN;
  const y = digitsAt(s, 0, 4);
  const mo = digitsAt(s, 5, 2);
  const d = digitsAt(s, 8, 2);
  const h = digitsAt(s, 11, 2);
  const mi = digitsAt(s, 14, 2);
  const sec = digitsAt(s, 17, 2);
  let frac = 0;
  if (len > 19) {
    if (s.charCodeAt(19) !== 46) return NaN;
    const fd = len - 20;
    frac = digitsAt(s, 20, fd) * 10 ** (6 - fd);
  }
  // NaN (a non-digit) fails every comparison below.
  if (!(y >= 1 && mo >= 1 && mo <= 12 && d >= 1 && h <= 23 && mi <= 59 && sec <= 59 && frac >= 0)) return NaN;
  const leap = mo === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > DAYS_IN_MONTH[mo - 1]! + (leap ? 1 : 0)) return NaN;
  const micros = (daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) * 1_000_000 + frac;
  if (!Number.isSafeInteger(micros)) return NaN;
  return micros;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** The text readDateTimeText read `micros` from, given its fraction digits (0–6). */
export function formatDateTimeText(micros: bigint, fractionDigits: number): string {
  const dayMicros = 86_400_000_000n;
  let days = micros / dayMicros;
  let rest = micros % dayMicros;
  if (rest < 0n) {
    rest += dayMicros;
    days -= 1n;
  }
  const ymd = civilFromDays(Number(days));
  const y = Math.floor(ymd / 10000);
  const m = Math.floor(ymd / 100) % 100;
  const d = ymd % 100;
  const r = Number(rest);
  const secs = Math.floor(r / 1_000_000);
  const text = `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)} ${pad(Math.floor(secs / 3600), 2)}:${pad(Math.floor(secs / 60) % 60, 2)}:${pad(secs % 60, 2)}`;
  if (fractionDigits === 0) return text;
  return `${text}.${pad(Math.floor((r % 1_000_000) / 10 ** (6 - fractionDigits)), fractionDigits)}`;
}
