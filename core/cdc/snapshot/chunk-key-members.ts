/**
 * ENUM and SET chunk key columns. Their order is the member index / the bit value of the members
 * (what InnoDB stores and indexes), but a comparison of the column with a string follows the
 * collation of the member text, and MariaDB ranges such a key part for equality only: `k > 3`
 * scans the index from its start, where `k IN ('c', 'd')` is a range read in index order (EXPLAIN,
 * MariaDB 10.11). So `column > v` is written as an IN list of the members after v, and literal
 * against literal comparisons (chunk-keys.ts placeKeys) use the member index / bit value.
 *
 * A SET of more than SET_LISTED_MEMBERS members has too many values to list: its comparisons are
 * numeric, correct but not ranged (each chunk read scans the index up to its bound).
 */
import { TidemarkError } from '../../errors/index';
import type { KeyColumnSql, KeyComparison } from './chunk-keys';

/** Members of a SET up to which its values (2^n) are listed in IN lists rather than compared as numbers. */
export const SET_LISTED_MEMBERS = 12;

/**
 * Member names of an `enum('a','b')` / `set(…)` column type as INFORMATION_SCHEMA.COLUMN_TYPE
 * spells it (quotes doubled, backslashes escaped), in definition order.
 */
export function parseMembers(mysqlType: string): string[] {
  const list = mysqlType.slice(mysqlType.indexOf('(') + 1, mysqlType.lastIndexOf(')'));
  return [...list.matchAll(/'((?:[^'\\]|''|\\.)*)'/g)].map((m) => m[1]!.replace(/''/g, "'").replace(/\\(.)/g, '$1'));
}

function fail(e: TidemarkError): never {
  throw e;
}

type MemberSql = Omit<KeyColumnSql, 'name'>;

/**
 * An ENUM column (`col` quoted): the literal is the member's text in the column's collation
 * (`text`); index 0 is the empty error value an invalid value is stored as, before every member.
 */
export function enumColumnSql(col: string, mysqlType: string, text: (v: unknown) => string, bad: (v: unknown) => TidemarkError): MemberSql {
  const members = parseMembers(mysqlType);
  const indexOf = new Map(members.map((m, i) => [m, i + 1]));
  const index = (v: unknown): number => (v === '' ? 0 : ((typeof v === 'string' ? indexOf.get(v) : undefined) ?? fail(bad(v))));
  /** Values of indexes from..to (inclusive) as one condition. */
  const between = (from: number, to: number): string => {
    const parts: string[] = [];
    if (from <= 0 && to >= 0) parts.push(`${col} = 0`);
    const listed = members.slice(Math.max(from, 1) - 1, Math.max(to, 0));
    if (listed.length > 0) parts.push(`${col} IN (${listed.map(text).join(', ')})`);
    return parts.length === 0 ? 'FALSE' : parts.length === 1 ? parts[0]! : `(${parts.join(' OR ')})`;
  };
  return {
    literal: (v) => (index(v) === 0 ? '0' : text(v)),
    ordinal: (v) => String(index(v)),
    compare(op: KeyComparison, v: unknown): string {
      const i = index(v);
      const n = members.length;
      switch (op) {
        case '=':
          return between(i, i);
        case '>':
          return between(i + 1, n);
        case '>=':
          return between(i, n);
        case '<':
          return between(0, i - 1);
        case '<=':
          return between(0, i);
      }
    },
  };
}

/** A SET column (`col` quoted): values are member lists ('a,c'), compared by their bit value. */
export function setColumnSql(col: string, mysqlType: string, bad: (v: unknown) => TidemarkError): MemberSql {
  const members = parseMembers(mysqlType);
  const bitOf = new Map(members.map((m, i) => [m, 1n << BigInt(i)]));
  const bits = (v: unknown): bigint => {
    if (typeof v !== 'string') return fail(bad(v));
    if (v === '') return 0n;
    let out = 0n;
    // The server and zongji spell members as the column type defines them.
    for (const m of v.split(',')) out |= bitOf.get(m) ?? fail(bad(v));
    return out;
  };
  const listed = members.length <= SET_LISTED_MEMBERS;
  const between = (from: bigint, to: bigint): string => {
    if (from > to) return 'FALSE';
    const values: string[] = [];
    for (let b = from; b <= to; b++) values.push(b.toString());
    return `${col} IN (${values.join(', ')})`;
  };
  const top = (1n << BigInt(members.length)) - 1n;
  return {
    literal: (v) => bits(v).toString(),
    ordinal: (v) => bits(v).toString(),
    compare(op: KeyComparison, v: unknown): string {
      const b = bits(v);
      if (op === '=' || !listed) return `${col} ${op} ${b.toString()}`;
      switch (op) {
        case '>':
          return between(b + 1n, top);
        case '>=':
          return between(b, top);
        case '<':
          return between(0n, b - 1n);
        case '<=':
          return between(0n, b);
      }
    },
  };
}
