import { TidemarkError } from '../../../errors';

/** Table options read by the Paimon write path, with Java Paimon's defaults and forms. */

/** An integer table option `key` of at least `min`, `dflt` when unset. */
export function intTableOption(options: Record<string, string>, key: string, dflt: number, min: number): number {
  const raw = options[key];
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new TidemarkError('InvalidInput', `table option ${key} must be an integer >= ${min}, found ${JSON.stringify(raw)}`);
  return n;
}

const UNITS: Record<string, number> = {
  ms: 1, milli: 1, millis: 1, millisecond: 1, milliseconds: 1,
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000, m: 60_000,
  h: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
};

/** A Paimon duration option ("1 h", "30min", "100 ms", "2 d"; a bare number is milliseconds). */
export function parsePaimonDuration(text: string, key: string): number {
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? (m[2] ?? '').toLowerCase() : '';
  if (!m || (unit !== '' && UNITS[unit] === undefined)) {
    throw new TidemarkError('InvalidInput', `table option ${key} must be a duration such as "1 h", "30 min" or "10 s", found ${JSON.stringify(text)}`);
  }
  return Number(m[1]) * (unit === '' ? 1 : UNITS[unit]!);
}
