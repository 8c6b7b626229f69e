import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createDemoWarehouse } from '../lake/write';

/** The app's data folder: `$TIDEMARK_HOME`, else `~/.tidemark` (Electron passes its userData). */
export function defaultDataDir(): string {
  return process.env.TIDEMARK_HOME || join(homedir(), '.tidemark');
}

/**
 * The demo lake opened on first start when no warehouse is given: created once in the data folder
 * (deterministic, ~1 s), reused afterwards.
 */
export async function ensureDemoLake(dataDir: string): Promise<string> {
  const path = join(dataDir, 'demo-lake');
  if (!existsSync(join(path, 'demo', 'orders', 'metadata'))) await createDemoWarehouse(path, 1);
  return path;
}
