import { resolve } from 'node:path';

/** The repository root (tests run with it as cwd). */
export const REPO_ROOT = resolve(import.meta.dirname, '../..');

/**
 * test/fixtures: real tables written by other engines, copied byte for byte from their upstream
 * repositories (test/fixtures/PROVENANCE.md). Tests never read outside the repository.
 */
export const FIXTURES = resolve(REPO_ROOT, 'test/fixtures');
