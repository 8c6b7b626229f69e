import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { makeConverter, normaliseDecimal, parseDateTimeMicros } from '../../core/cdc/schema/column-codec';
import { mapColumnType } from '../../core/cdc/schema/type-map';
import { civilFromDays, daysFromCivil } from '../../core/lake/values';
import { TidemarkError } from '../../core/errors/index';
import type { ColumnSchema } from '../../core/cdc/types';

/** One row per line of the type map in issue 3. */
const MAP: [string, unknown][] = [
  ['tinyint(1)', { type: 'boolean' }],
  ['tinyint(4)', { type: 'int' }],
  ['tinyint unsigned', { type: 'int' }],
  ['smallint(6)', { type: 'int' }],
  ['mediumint(8) unsigned', { type: 'int' }],
  ['int(11)', { type: 'int' }],
  ['int(10) unsigned', { type: 'long' }],
  ['bigint(20)', { type: 'long' }],
  ['bigint(20) unsigned', { type: 'decimal', precision: 20, scale: 0 }],
  ['decimal(38,10)', { type: 'decimal', precision: 38, scale: 10 }],
  ['decimal(10,0)', { type: 'decimal', precision: 10, scale: 0 }],
  ['decimal(39,2)', { type: 'string' }],
  ['decimal(65,30)', { type: 'string' }],
  ['float', { type: 'float' }],
  ['double', { type: 'double' }],
  ['bit(1)', { type: 'boolean' }],
  ['bit(10)', { type: 'binary' }],
  ['char(5)', { type: 'string' }],
  ['varchar(255)', { type: 'string' }],
  ['longtext', { type: 'string' }],
  ['binary(16)', { type: 'binary' }],
  ['varbinary(10)', { type: 'binary' }],
  ['blob', { type: 'binary' }],
  ['date', { type: 'date' }],
  ['time(6)', { type: 'time' }],
  ['datetime(6)', { type: 'timestamp' }],
  ['datetime', { type: 'timestamp' }],
  ['timestamp(3)', { type: 'timestamptz' }],
  ['year(4)', { type: 'int' }],
  ['json', { type: 'string' }],
  ["enum('a','b')", { type: 'string' }],
  ["set('a','b')", { type: 'string' }],
  ['geometry', { type: 'binary' }],
  ['point', { type: 'binary' }],
  ['uuid', { type: 'string' }],
  ['inet4', { type: 'string' }],
  ['inet6', { type: 'string' }],
];

const col = (mysqlType: string, nullable = true): ColumnSchema => ({ name: 'c', mysqlType, icebergType: mapColumnType(mysqlType), nullable, position: 1 });

describe('MySQL → Iceberg type map', () => {
  for (const [mysqlType, iceberg] of MAP) {
    it(`${mysqlType} → ${JSON.stringify(iceberg)}`, () => {
      expect(mapColumnType(mysqlType)).toEqual(iceberg);
    });
  }

  it('tinyint(1) → int when treat-tinyint1-as-boolean is off', () => {
    expect(mapColumnType('tinyint(1)', { tinyInt1IsBoolean: false })).toEqual({ type: 'int' });
  });

  it('an unknown type is Unsupported, naming the column', () => {
    expect(() => mapColumnType('vector(3)', undefined, 'app.t.v')).toThrowError(
      expect.objectContaining({ code: 'Unsupported', message: 'app.t.v: column type "vector(3)" has no Iceberg mapping' }),
    );
  });
});

describe('value conversion', () => {
  it("INET4: the binlog's 4 bytes (trailing zero bytes dropped) become dotted text; spatial: the stored bytes lose their SRID", () => {
    const ip = makeConverter(col('inet4'), 'app.t.a');
    expect(ip(Buffer.from('c0a80001', 'hex'))).toBe('192.168.0.1');
    expect(ip(Buffer.from('0a', 'hex'))).toBe('10.0.0.0');
    expect(ip('10.0.0.1')).toBe('10.0.0.1');
    const g = makeConverter(col('geometry'), 'app.t.g');
    expect(Buffer.from(g(Buffer.from('e6100000010100000000000000000000000000000000000000', 'hex')) as Uint8Array).toString('hex')).toBe('010100000000000000000000000000000000000000');
    expect(() => g(Buffer.from('e610000001', 'hex'))).toThrow('app.t.g: a spatial value of 5 bytes; expected a 4-byte SRID and a WKB geometry');
  });

  it("UUID and INET6: the binlog's bytes (trailing zero bytes dropped) become the server's text; snapshot text passes", () => {
    const uuid = makeConverter(col('uuid'), 'app.t.u');
    const ip = makeConverter(col('inet6'), 'app.t.a');
    expect(uuid(Buffer.from('00000000000010008000000000000003', 'hex'))).toBe('00000000-0000-1000-8000-000000000003');
    expect(uuid(Buffer.from('ab', 'hex'))).toBe('ab000000-0000-0000-0000-000000000000');
    expect(uuid('00000000-0000-1000-8000-000000000003')).toBe('00000000-0000-1000-8000-000000000003');
    // Texts as MariaDB 10.11 prints them (types.test.ts checks against the server).
    const cases: [string, string][] = [
      ['00000000000000000000000000000000', '::'],
      ['00000000000000000000000000000102', '::102'],
      ['00000000000000000000000001020304', '::1.2.3.4'],
      ['00000000000000000000ffff01020304', '::ffff:1.2.3.4'],
      ['0000000000000000ffff000001020304', '::ffff:0:102:304'],
      ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
      ['00010002000300000005000000070000', '1:2:3::5:0:7:0'],
      ['fe80', 'fe80::'],
    ];
    expect(cases.map(([hex]) => ip(Buffer.from(hex, 'hex')))).toEqual(cases.map(([, text]) => text));
    expect(() => ip(Buffer.alloc(17))).toThrowError(expect.objectContaining({ code: 'DataInvalid', message: 'app.t.a: expected the 16 bytes of an INET6 value, found 17' }));
  });

  it('zero dates become null in nullable columns and the epoch in NOT NULL ones', () => {
    expect(makeConverter(col('date'), 'c')('0000-00-00')).toBeNull();
    expect(makeConverter(col('date', false), 'c')('0000-00-00')).toBe(0);
    expect(makeConverter(col('datetime', false), 'c')('2020-00-10 00:00:00')).toBe(0n);
    expect(makeConverter(col('timestamp'), 'c')('0000-00-00 00:00:00')).toBeNull();
  });

  it('TIME outside Iceberg time range is DataInvalid naming the column', () => {
    expect(() => makeConverter(col('time'), 'app.t.c')('838:59:59')).toThrowError(expect.objectContaining({ code: 'DataInvalid', message: expect.stringContaining('app.t.c: TIME 838:59:59') }));
    expect(() => makeConverter(col('time'), 'app.t.c')('-00:00:01')).toThrow(TidemarkError);
  });

  it('timestamps keep microseconds; dates count days since the epoch', () => {
    expect(makeConverter(col('datetime(6)'), 'c')('1969-12-31 23:59:59.000001')).toBe(-999_999n);
    expect(makeConverter(col('date'), 'c')('1969-12-31')).toBe(-1);
    expect(makeConverter(col('time(3)'), 'c')('01:00:00.5')).toBe(3_600_500_000n);
  });

  it('decimal text is canonical: no leading zeros, exact scale, no -0', () => {
    expect(normaliseDecimal('-0012.5', 3, 'c')).toBe('-12.500');
    expect(normaliseDecimal('-0.000', 3, 'c')).toBe('0.000');
    expect(normaliseDecimal('.5', 1, 'c')).toBe('0.5');
    expect(() => normaliseDecimal('1.2345', 2, 'c')).toThrow(/more than 2 fraction digits/);
  });

  it('property: any decimal(38,10) value converts from its text unchanged in value', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 38n) + 1n, max: 10n ** 38n - 1n }), (units) => {
        const neg = units < 0n;
        const abs = (neg ? -units : units).toString().padStart(11, '0');
        const text = `${neg ? '-' : ''}${abs.slice(0, -10)}.${abs.slice(-10)}`;
        const out = makeConverter(col('decimal(38,10)'), 'c')(text) as string;
        const back = BigInt(out.replace('.', ''));
        expect(back).toBe(units);
      }),
    );
  });

  it('property: bigint values arrive as number or string and convert exactly', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (v) => {
        const raw = v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
        expect(makeConverter(col('bigint'), 'c')(raw)).toBe(v);
      }),
    );
  });

  it('property: datetime text with a non-digit, a wrong separator or fraction width is malformed; zero date parts give null; repeated and alternating dates agree', () => {
    const ok = '2024-02-29 23:59:58.123456';
    const okMicros = BigInt(Date.UTC(2024, 1, 29, 23, 59, 58)) * 1000n + 123456n;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: ok.length - 1 }), fc.constantFrom('a', '/', ' ', ':', '-', '.', '\u0660', '+', '9'), (at, ch) => {
        const text = ok.slice(0, at) + ch + ok.slice(at + 1);
        // A digit replacing a digit is another valid value; position 10 (the date-time separator) is
        // not checked; anything else there is malformed.
        if (/[0-9]/.test(ok[at]!) && /[0-9]/.test(ch)) expect(typeof parseDateTimeMicros(text)).toBe('bigint');
        else expect(parseDateTimeMicros(text)).toBe(text === ok || at === 10 ? okMicros : undefined);
      }),
    );
    for (const bad of ['2024-02-29 23:59:58.', '2024-02-29 23:59:58.1234567', '2024-02-29 23:59:5', '2024-02-29 23:59:58,1', '']) expect(parseDateTimeMicros(bad)).toBeUndefined();
    for (const zero of ['0000-00-00 00:00:00', '0000-01-01 00:00:00', '2024-00-01 00:00:00.5', '2024-01-00 12:00:00']) expect(parseDateTimeMicros(zero)).toBeNull();
    // The day number of the last date is reused: the same date twice, then others, then back.
    const texts = ['2024-01-01 00:00:01', '2024-01-01 10:00:00.5', '1999-12-31 23:59:59.999999', '2024-01-01 00:00:01', '0001-01-01 00:00:00', '9999-12-31 23:59:59.999999'];
    const want = [
      BigInt(Date.UTC(2024, 0, 1, 0, 0, 1)) * 1000n,
      BigInt(Date.UTC(2024, 0, 1, 10)) * 1000n + 500_000n,
      BigInt(Date.UTC(1999, 11, 31, 23, 59, 59)) * 1000n + 999_999n,
      BigInt(Date.UTC(2024, 0, 1, 0, 0, 1)) * 1000n,
      -62135596800000000n,
      253402300799999999n,
    ];
    expect(texts.map((t) => parseDateTimeMicros(t))).toEqual(want);
  });

  it('property: datetime text → µs agrees with Date.UTC for years 1..9999, any fraction width', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date(Date.UTC(1, 0, 1)), max: new Date(Date.UTC(9999, 11, 31, 23, 59, 59)), noInvalidDate: true }),
        fc.integer({ min: 0, max: 999_999 }),
        fc.integer({ min: 0, max: 6 }),
        (d, micros, width) => {
          const p2 = (n: number, w = 2) => String(n).padStart(w, '0');
          const frac = width === 0 ? '' : '.' + p2(micros, 6).slice(0, width);
          const text = `${p2(d.getUTCFullYear(), 4)}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}${frac}`;
          const whole = Math.floor(d.getTime() / 1000) * 1000;
          const fracMicros = width === 0 ? 0n : BigInt(p2(micros, 6).slice(0, width).padEnd(6, '0'));
          expect(parseDateTimeMicros(text)).toBe(BigInt(whole) * 1000n + fracMicros);
          const days = Math.floor(d.getTime() / 86_400_000);
          expect(daysFromCivil(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate())).toBe(days);
          expect(civilFromDays(days)).toBe(d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate());
        },
      ),
    );
  });
});
