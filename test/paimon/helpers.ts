import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { TidemarkError } from '../../core/errors';
import { FIXTURES } from '../support/fixtures';

/** test/fixtures/paimon: tables written by Java Paimon (copied from paimon-cpp's test data). */
export const paimonFixtures = resolve(FIXTURES, 'paimon');

export function tableRoot(name: string): string {
  return join(paimonFixtures, 'paimon-cpp', name);
}

/** A private, writable copy of a fixture table (for corrupting files). */
export function copyTable(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-paimon-'));
  const dest = join(dir, name);
  cpSync(tableRoot(name), dest, { recursive: true });
  return dest;
}

/** Asserts a TidemarkError with `code` whose message contains every `parts`. */
export async function expectError(p: Promise<unknown>, code: string, ...parts: string[]): Promise<TidemarkError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a TidemarkError').toBeInstanceOf(TidemarkError);
  const err = caught as TidemarkError;
  expect(err.code, err.message).toBe(code);
  for (const part of parts) expect(err.message).toContain(part);
  return err;
}
