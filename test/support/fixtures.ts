import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** The repository root (tests run with it as cwd). */
export const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** ../shared/fixtures beside the repository: real tables written by other engines. */
export const SHARED_FIXTURES = resolve(REPO_ROOT, '../shared/fixtures');

export function requireSharedFixtures(): string {
  if (!existsSync(SHARED_FIXTURES)) throw new Error(`shared fixtures not found at ${SHARED_FIXTURES}: the repo must sit beside shared/`);
  return SHARED_FIXTURES;
}
