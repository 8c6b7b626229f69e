import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatTimestamp, parseTimestamp } from '../../core/lake/values';

/** Independent reference: Date for the whole milliseconds, the µs remainder appended. */
function reference(micros: bigint, withZone: boolean): string {
  const ms = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const sub = micros - ms * 1000n;
  const iso = new Date(Number(ms)).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ for years 0..9999
  return `${iso.slice(0, 23)}${sub.toString().padStart(3, '0')}${withZone ? '+00:00' : ''}`;
}

describe('formatTimestamp (Number fast path and BigInt path agree with a Date reference)', () => {
  it('formats known instants', () => {
    expect(formatTimestamp(0n, false)).toBe('1970-01-01T00:00:00.000000');
    expect(formatTimestamp(-1n, false)).toBe('1969-12-31T23:59:59.999999');
    expect(formatTimestamp(1704067200000001n, true)).toBe('2024-01-01T00:00:00.000001+00:00');
    expect(formatTimestamp(951782400123456n, false)).toBe('2000-02-29T00:00:00.123456');
    // Beyond 2^53 µs (year 2255): the BigInt path.
    expect(formatTimestamp(253402300799999999n, false)).toBe('9999-12-31T23:59:59.999999');
    expect(formatTimestamp(-62135596800000000n, false)).toBe('0001-01-01T00:00:00.000000');
  });

  it('round-trips and matches the reference over years 0001..9999', () => {
    fc.assert(
      fc.property(fc.oneof(fc.bigInt({ min: -(2n ** 53n), max: 2n ** 53n }), fc.bigInt({ min: -62135596800000000n, max: 253402300799999999n })), fc.boolean(), (micros, zone) => {
        const text = formatTimestamp(micros, zone);
        expect(text).toBe(reference(micros, zone));
        expect(parseTimestamp(text)).toBe(micros);
      }),
      { numRuns: 5000 },
    );
  });
});
