import { TidemarkError } from '../../../errors';
import type { EvalContext, Typed } from '../evaluator';
import { INT, isZoned, STRING, t, type FlinkType, type V } from '../types';
import { civilFromDays, daysFromCivil, floorDiv, formatDate, instantToWall, NANOS_PER_DAY, parseTimestampText, wallToInstant, dataError } from '../values';
import { fields, formatPattern, parsePattern } from './datetime-pattern';
import { strict } from './strict';

/**
 * Temporal family: DATE_FORMAT, DATE_FORMAT_TZ, TO_DATE, TO_TIMESTAMP, TO_TIMESTAMP_LTZ,
 * FROM_UNIXTIME, UNIX_TIMESTAMP, TIMESTAMPADD, TIMESTAMPDIFF, DATE_ADD, EXTRACT and YEAR … SECOND,
 * `temporal ± INTERVAL`, and the clock functions. Zone-dependent functions use
 * pipeline.local-time-zone (EvalContext.timeZone); patterns are java.time's letters
 * (yyyy MM dd HH mm ss SSS …).
 */
const NS = 1_000_000_000n;
const UNIT_NS: Record<string, bigint> = { NANOSECOND: 1n, MICROSECOND: 1000n, MILLISECOND: 1_000_000n, SECOND: NS, MINUTE: 60n * NS, HOUR: 3600n * NS, DAY: 86400n * NS, WEEK: 7n * 86400n * NS };
const MONTH_UNITS: Record<string, number> = { MONTH: 1, QUARTER: 3, YEAR: 12 };

const isTemporal = (ty: FlinkType) => ['DATE', 'TIME', 'TIMESTAMP', 'TIMESTAMP_LTZ', 'TIMESTAMP_TZ'].includes(ty.kind);

/** A temporal value as wall-clock ns in the session zone (DATE at midnight, TIME on 1970-01-01). */
export function toWall(v: V, ty: FlinkType, ctx: EvalContext): bigint {
  switch (ty.kind) {
    case 'DATE': return BigInt(v as number) * NANOS_PER_DAY;
    case 'TIME': return BigInt(v as number);
    case 'TIMESTAMP': return v as bigint;
    case 'TIMESTAMP_LTZ': return instantToWall(v as bigint, ctx.timeZone);
    case 'TIMESTAMP_TZ': if (isZoned(v)) return v.n; break;
  }
  if (typeof v === 'string') {
    const ns = parseTimestampText(v);
    if (ns !== null) return ns;
  }
  throw dataError(`expected a date, time or timestamp, found ${JSON.stringify(typeof v === 'bigint' ? String(v) : v)}`);
}

function fromWall(ns: bigint, ty: FlinkType, ctx: EvalContext, zone?: string): V {
  switch (ty.kind) {
    case 'DATE': return Number(floorDiv(ns, NANOS_PER_DAY));
    case 'TIME': return Number(ns - floorDiv(ns, NANOS_PER_DAY) * NANOS_PER_DAY);
    case 'TIMESTAMP_LTZ': return wallToInstant(ns, ctx.timeZone);
    case 'TIMESTAMP_TZ': return { n: ns, z: zone ?? ctx.timeZone };
  }
  return ns;
}

function addMonths(ns: bigint, months: number): bigint {
  const days = floorDiv(ns, NANOS_PER_DAY);
  const rest = ns - days * NANOS_PER_DAY;
  const [y, m, d] = civilFromDays(Number(days));
  const total = y * 12 + (m - 1) + months;
  const ny = Math.floor(total / 12);
  const nm = total - ny * 12 + 1;
  const last = civilFromDays(daysFromCivil(ny, nm + 1, 1) - 1)[2];
  return BigInt(daysFromCivil(ny, nm, Math.min(d, last))) * NANOS_PER_DAY + rest;
}

/** Forms of `INTERVAL 'text' FROM TO TO` (SQL): the text's fields, largest unit first. */
const INTERVAL_FORMS: Record<string, { re: RegExp; units: string[] }> = {
  'YEAR TO MONTH': { re: /^(\d+)-(\d+)$/, units: ['YEAR', 'MONTH'] },
  'DAY TO HOUR': { re: /^(\d+) (\d+)$/, units: ['DAY', 'HOUR'] },
  'DAY TO MINUTE': { re: /^(\d+) (\d+):(\d+)$/, units: ['DAY', 'HOUR', 'MINUTE'] },
  'DAY TO SECOND': { re: /^(\d+) (\d+):(\d+):(\d+(?:\.\d{1,9})?)$/, units: ['DAY', 'HOUR', 'MINUTE', 'SECOND'] },
  'HOUR TO MINUTE': { re: /^(\d+):(\d+)$/, units: ['HOUR', 'MINUTE'] },
  'HOUR TO SECOND': { re: /^(\d+):(\d+):(\d+(?:\.\d{1,9})?)$/, units: ['HOUR', 'MINUTE', 'SECOND'] },
  'MINUTE TO SECOND': { re: /^(\d+):(\d+(?:\.\d{1,9})?)$/, units: ['MINUTE', 'SECOND'] },
};

/** Nanoseconds of `text` seconds (`4`, `4.5`). */
const secondsNs = (text: string): bigint => {
  const [whole, frac = ''] = text.split('.');
  return BigInt(whole!) * NS + BigInt(frac.padEnd(9, '0').slice(0, 9));
};

/** An INTERVAL literal: months (year-month) or nanoseconds (day-time), typed as a NESTED marker no column can have. */
export function compileInterval(amount: string, unit: string, col: number): Typed {
  const text = amount.trim();
  const sign = text.startsWith('-') ? -1n : 1n;
  const body = text.replace(/^[+-]/, '');
  const bad = () => new TidemarkError('InvalidInput', `INTERVAL '${amount}' ${unit}: the text does not fit the unit (column ${col})`, { column: col });
  let months: bigint | null = null;
  let nanos = 0n;
  const form = INTERVAL_FORMS[unit];
  if (form) {
    const m = form.re.exec(body);
    if (!m) throw bad();
    form.units.forEach((u, i) => {
      const part = m[i + 1]!;
      if (MONTH_UNITS[u] !== undefined) months = (months ?? 0n) + BigInt(part) * BigInt(MONTH_UNITS[u]!);
      else nanos += u === 'SECOND' ? secondsNs(part) : BigInt(part) * UNIT_NS[u]!;
    });
  } else if (MONTH_UNITS[unit] !== undefined) {
    if (!/^\d+$/.test(body)) throw bad();
    months = BigInt(body) * BigInt(MONTH_UNITS[unit]!);
  } else if (UNIT_NS[unit] !== undefined) {
    if (!/^\d+(\.\d{1,9})?$/.test(body) || (unit !== 'SECOND' && body.includes('.'))) throw bad();
    nanos = unit === 'SECOND' ? secondsNs(body) : BigInt(body) * UNIT_NS[unit]!;
  } else {
    throw new TidemarkError('Unsupported', `INTERVAL unit ${unit} is not supported (column ${col})`, { column: col });
  }
  if (months !== null) {
    const v = sign * months;
    return { t: { kind: 'NESTED', nullable: false, text: 'INTERVAL MONTH' }, ev: () => v };
  }
  const v = sign * nanos;
  return { t: { kind: 'NESTED', nullable: false, text: 'INTERVAL SECOND' }, ev: () => v };
}

const isInterval = (a: Typed) => a.t.kind === 'NESTED' && a.t.text?.startsWith('INTERVAL') === true;

/** `temporal ± INTERVAL …` (and INTERVAL + temporal); null when neither operand is an interval. */
export function temporalPlus(op: string, l: Typed, r: Typed): Typed | null {
  const li = isInterval(l);
  const ri = isInterval(r);
  if (!li && !ri) return null;
  if (li === ri || (li && op === '-')) throw new TidemarkError('InvalidInput', `unsupported interval arithmetic: ${l.t.text ?? l.t.kind} ${op} ${r.t.text ?? r.t.kind}`);
  const base = li ? r : l;
  const iv = li ? l : r;
  if (!isTemporal(base.t)) throw new TidemarkError('InvalidInput', `an INTERVAL can only be added to a DATE, TIME or TIMESTAMP, found ${base.t.kind}`);
  const months = iv.t.text === 'INTERVAL MONTH';
  const sign = op === '-' ? -1n : 1n;
  const ctx = { timeZone: 'UTC', decimalMode: 'up_to_38' as const, now: () => 0 };
  return {
    t: base.t,
    ev: (row, m) => {
      const v = base.ev(row, m);
      if (v === null) return null;
      const amount = (iv.ev(row, m) as bigint) * sign;
      if (base.t.kind === 'TIMESTAMP_LTZ') return months ? wallToInstant(addMonths(instantToWall(v as bigint, 'UTC'), Number(amount)), 'UTC') : (v as bigint) + amount;
      const wall = toWall(v, base.t, ctx);
      const zone = isZoned(v) ? v.z : undefined;
      return fromWall(months ? addMonths(wall, Number(amount)) : wall + amount, base.t, ctx, zone);
    },
  };
}

// ---- functions ----

type Compile = (args: Typed[], ctx: EvalContext) => Typed;

function requireTemporal(a: Typed, fn: string): void {
  if (a.t.kind !== 'NULL' && !isTemporal(a.t) && a.t.kind !== 'CHAR' && a.t.kind !== 'VARCHAR') throw new TidemarkError('InvalidInput', `${fn}() expects a date, time or timestamp, found ${a.t.kind}`);
}

function extractField(unit: string, wall: bigint): number {
  const f = fields(wall);
  switch (unit) {
    case 'YEAR': return f.y;
    case 'QUARTER': return Math.floor((f.mo - 1) / 3) + 1;
    case 'MONTH': return f.mo;
    case 'WEEK': {
      // ISO week of the year.
      const days = Number(floorDiv(wall, NANOS_PER_DAY));
      const thursday = days - f.dow + 3;
      const [ty] = civilFromDays(thursday);
      return Math.floor((thursday - daysFromCivil(ty, 1, 1)) / 7) + 1;
    }
    case 'DAY': return f.d;
    case 'DOY': return f.doy;
    case 'DOW': return ((f.dow + 1) % 7) + 1; // SQL: Sunday = 1
    case 'HOUR': return f.h;
    case 'MINUTE': return f.mi;
    case 'SECOND': return f.s;
  }
  throw new TidemarkError('Unsupported', `EXTRACT unit ${unit} is not supported`);
}

const unitOf = (a: Typed): string => {
  if (!a.lit || typeof a.lit.value !== 'string') throw new TidemarkError('InvalidInput', 'expected a time unit');
  return a.lit.value.replace(/S$/, '');
};

function diffUnits(unit: string, a: bigint, b: bigint): number {
  if (MONTH_UNITS[unit] !== undefined) {
    const fa = fields(a);
    const fb = fields(b);
    let months = (fb.y - fa.y) * 12 + (fb.mo - fa.mo);
    const restA = BigInt(fa.d) * NANOS_PER_DAY + (a - floorDiv(a, NANOS_PER_DAY) * NANOS_PER_DAY);
    const restB = BigInt(fb.d) * NANOS_PER_DAY + (b - floorDiv(b, NANOS_PER_DAY) * NANOS_PER_DAY);
    if (months > 0 && restB < restA) months--;
    if (months < 0 && restB > restA) months++;
    return Math.trunc(months / MONTH_UNITS[unit]!);
  }
  const per = UNIT_NS[unit];
  if (per === undefined) throw new TidemarkError('Unsupported', `TIMESTAMPDIFF unit ${unit} is not supported`);
  return Number((b - a) / per);
}

const clock = (ctx: EvalContext): bigint => BigInt(ctx.now()) * 1_000_000n;
const DEFAULT_DATETIME_FORMAT = 'yyyy-MM-dd HH:mm:ss';

export const TEMPORAL_FUNCTIONS: Record<string, { arity: [number, number]; compile: Compile }> = {
  DATE_FORMAT: { arity: [2, 2], compile: ([a, p], ctx) => {
    requireTemporal(a!, 'DATE_FORMAT');
    return strict(STRING(), [a!, p!], ([v, pat]) => formatPattern(toWall(v!, a!.t, ctx), pat as string));
  } },
  // DATE_FORMAT_TZ(ts, [format,] zone): a TIMESTAMP_LTZ is shown in `zone`; a TIMESTAMP's wall clock is kept (placed in `zone`).
  DATE_FORMAT_TZ: { arity: [2, 3], compile: (args, ctx) => strict(STRING(), args, (vs) => {
    const [v, pat, zone] = vs.length === 2 ? [vs[0], DEFAULT_DATETIME_FORMAT, vs[1]] : vs;
    const wall = args[0]!.t.kind === 'TIMESTAMP_LTZ' ? instantToWall(v as bigint, zone as string) : toWall(v!, args[0]!.t, ctx);
    return formatPattern(wall, pat as string);
  }) },
  TO_DATE: { arity: [1, 2], compile: (args, ctx) => strict(t('DATE'), args, ([v, pat]) => {
    // TO_DATE of a TIMESTAMP_LTZ takes its UTC date (TemporalFunctions.toDate(Instant)).
    if (typeof v !== 'string') return Number(floorDiv(toWall(v!, args[0]!.t, { ...ctx, timeZone: 'UTC' }), NANOS_PER_DAY));
    const ns = parsePattern(v, (pat as string | undefined) ?? 'yyyy-MM-dd');
    return ns === null ? null : Number(floorDiv(ns, NANOS_PER_DAY));
  }) },
  TO_TIMESTAMP: { arity: [1, 2], compile: (args) => strict(t('TIMESTAMP', true, 3), args, ([v, pat]) => {
    const format = (pat as string | undefined) ?? DEFAULT_DATETIME_FORMAT;
    const ns = parsePattern(v as string, format);
    if (ns === null) throw dataError(`TO_TIMESTAMP: Unparseable date: ${JSON.stringify(v)} (format ${format})`);
    return ns;
  }) },
  // TO_TIMESTAMP_LTZ(millis [, 0|3]) or (text [, format [, zone]]): text is read in UTC unless a zone is given.
  TO_TIMESTAMP_LTZ: { arity: [1, 3], compile: (args) => strict(t('TIMESTAMP_LTZ', true, 3), args, ([v, pat, zone]) => {
    if (typeof v === 'number' || typeof v === 'bigint') {
      if (pat !== undefined && pat !== 0 && pat !== 3) throw dataError(`TO_TIMESTAMP_LTZ precision must be 0 or 3, but get: ${String(pat)}`);
      return BigInt(v) * (pat === 0 ? NS : 1_000_000n);
    }
    const format = (pat as string | undefined) ?? 'yyyy-MM-dd HH:mm:ss.SSS';
    const ns = parsePattern(v as string, format);
    if (ns === null) throw dataError(`TO_TIMESTAMP_LTZ: text ${JSON.stringify(v)} does not match ${format}`);
    return wallToInstant(ns, (zone as string | undefined) ?? 'UTC');
  }) },
  FROM_UNIXTIME: { arity: [1, 2], compile: (args, ctx) => strict(STRING(), args, ([v, pat]) => {
    const seconds = typeof v === 'bigint' ? v : BigInt(Math.trunc(v as number));
    return formatPattern(instantToWall(seconds * NS, ctx.timeZone), (pat as string | undefined) ?? 'yyyy-MM-dd HH:mm:ss');
  }) },
  UNIX_TIMESTAMP: { arity: [0, 2], compile: (args, ctx) => {
    if (args.length === 0) return { t: t('BIGINT', false), ev: () => clock(ctx) / NS };
    return strict(t('BIGINT'), args, ([v, pat]) => {
      const ns = parsePattern(v as string, (pat as string | undefined) ?? 'yyyy-MM-dd HH:mm:ss');
      return ns === null ? null : floorDiv(wallToInstant(ns, ctx.timeZone), NS);
    });
  } },
  TIMESTAMPADD: { arity: [3, 3], compile: ([u, n, ts], ctx) => {
    const unit = unitOf(u!);
    requireTemporal(ts!, 'TIMESTAMPADD');
    // A timestamp keeps its kind with at most 3 fractional digits in the type (Flink CDC's result schema).
    const ty = ts!.t.kind === 'DATE' && !['DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR'].includes(unit)
      ? t('TIMESTAMP', true, 3)
      : { ...ts!.t, nullable: true, precision: ts!.t.precision === undefined ? undefined : Math.min(ts!.t.precision, 3) };
    return strict(ty, [n!, ts!], ([amount, v]) => {
      const k = BigInt(typeof amount === 'bigint' ? amount : Math.trunc(amount as number));
      const wall = toWall(v!, ts!.t, ts!.t.kind === 'TIMESTAMP_LTZ' ? { ...ctx, timeZone: 'UTC' } : ctx);
      const added = MONTH_UNITS[unit] !== undefined ? addMonths(wall, Number(k) * MONTH_UNITS[unit]!) : wall + k * UNIT_NS[unit]!;
      // Flink CDC adds in epoch milliseconds (DateTimeUtils.timestampAdd): sub-millisecond digits are dropped.
      const out = floorDiv(added, 1_000_000n) * 1_000_000n;
      return fromWall(out, ty, ts!.t.kind === 'TIMESTAMP_LTZ' ? { ...ctx, timeZone: 'UTC' } : ctx, isZoned(v!) ? v.z : undefined);
    });
  } },
  TIMESTAMPDIFF: { arity: [3, 3], compile: ([u, a, b], ctx) => {
    const unit = unitOf(u!);
    requireTemporal(a!, 'TIMESTAMPDIFF');
    requireTemporal(b!, 'TIMESTAMPDIFF');
    const instant = (v: V, ty: FlinkType) => (ty.kind === 'TIMESTAMP_LTZ' ? instantToWall(v as bigint, ctx.timeZone) : toWall(v, ty, ctx));
    return strict(INT(), [a!, b!], ([x, y]) => diffUnits(unit, instant(x!, a!.t), instant(y!, b!.t)));
  } },
  // DATE_ADD(date or timestamp or text, days): the date as yyyy-MM-dd text (TemporalFunctions.dateAdd).
  DATE_ADD: { arity: [2, 2], compile: ([a, n], ctx) => strict(STRING(), [a!, n!], ([v, k]) => formatDate(Number(floorDiv(toWall(v!, a!.t, ctx), NANOS_PER_DAY)) + Number(k))) },
  EXTRACT: { arity: [2, 2], compile: ([u, a], ctx) => {
    const unit = unitOf(u!);
    requireTemporal(a!, 'EXTRACT');
    return strict(t('BIGINT'), [a!], ([v]) => BigInt(extractField(unit, toWall(v!, a!.t, ctx))));
  } },
  CURRENT_TIMESTAMP: { arity: [0, 0], compile: (_a, ctx) => ({ t: t('TIMESTAMP_LTZ', false, 3), ev: () => clock(ctx) }) },
  NOW: { arity: [0, 0], compile: (_a, ctx) => ({ t: t('TIMESTAMP_LTZ', false, 3), ev: () => clock(ctx) }) },
  LOCALTIMESTAMP: { arity: [0, 0], compile: (_a, ctx) => ({ t: t('TIMESTAMP', false, 3), ev: () => instantToWall(clock(ctx), ctx.timeZone) }) },
  CURRENT_DATE: { arity: [0, 0], compile: (_a, ctx) => ({ t: t('DATE', false), ev: () => Number(floorDiv(instantToWall(clock(ctx), ctx.timeZone), NANOS_PER_DAY)) }) },
  CURRENT_TIME: { arity: [0, 0], compile: (_a, ctx) => ({ t: t('TIME', false, 0), ev: () => fromWall(instantToWall(clock(ctx), ctx.timeZone), t('TIME'), ctx) }) },
  LOCALTIME: { arity: [0, 0], compile: (_a, ctx) => ({ t: t('TIME', false, 0), ev: () => fromWall(instantToWall(clock(ctx), ctx.timeZone), t('TIME'), ctx) }) },
};

for (const [name, unit] of Object.entries({ YEAR: 'YEAR', QUARTER: 'QUARTER', MONTH: 'MONTH', WEEK: 'WEEK', DAYOFYEAR: 'DOY', DAYOFMONTH: 'DAY', DAYOFWEEK: 'DOW', HOUR: 'HOUR', MINUTE: 'MINUTE', SECOND: 'SECOND' })) {
  TEMPORAL_FUNCTIONS[name] = { arity: [1, 1], compile: ([a], ctx) => TEMPORAL_FUNCTIONS.EXTRACT!.compile([{ t: STRING(false), ev: () => unit, lit: { value: unit } }, a!], ctx) };
}
TEMPORAL_FUNCTIONS.TIMESTAMP_DIFF = TEMPORAL_FUNCTIONS.TIMESTAMPDIFF!;

