import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The layer rule of STYLE.md must fire: lint small snippets as if they lived in each folder.
const eslint = new ESLint({ cwd: process.cwd() });

async function restrictedImports(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layer boundaries', () => {
  it.each([
    ['core/lake/x.ts', "import { app } from 'electron';\nexport const a = app;"],
    ['core/lake/x.ts', "import React from 'react';\nexport const a = React;"],
    ['core/lake/x.ts', "import { createRoot } from 'react-dom/client';\nexport const a = createRoot;"],
    ['core/query/x.ts', "import { App } from '../../renderer/src/App';\nexport const a = App;"],
    ['core/app/x.ts', "import { startMain } from '../../electron/app';\nexport const a = startMain;"],
  ])('core/ may not import UI or Electron code (%s: %s)', async (file, code) => {
    const messages = await restrictedImports(file, code);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/core\/ (is plain TypeScript|must not import)/);
  });

  it.each([
    ['renderer/src/x.ts', "import { planScan } from '../../core/lake';\nexport const a = planScan;"],
    ['renderer/src/x.ts', "import { createLocalStorage } from '../../core/storage/node/index';\nexport const a = createLocalStorage;"],
    ['renderer/src/deep/x.tsx', "import { runCli } from '../../../core/cdc/index';\nexport const a = runCli;"],
  ])('renderer/ may import from core/ only api and query (%s: %s)', async (file, code) => {
    const messages = await restrictedImports(file, code);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('renderer/ may import from core/ only core/api (contract types) and core/query (the DuckDB-wasm engine).');
  });

  it('renderer/ may not import electron, electron/ or Node built-ins', async () => {
    expect(await restrictedImports('renderer/src/x.ts', "import { ipcRenderer } from 'electron';\nexport const a = ipcRenderer;")).toHaveLength(1);
    expect(await restrictedImports('renderer/src/x.ts', "import { WEB_PREFERENCES } from '../../electron/app';\nexport const a = WEB_PREFERENCES;")).toHaveLength(1);
    expect(await restrictedImports('renderer/src/x.ts', "import { readFile } from 'node:fs';\nexport const a = readFile;")).toHaveLength(1);
  });

  it.each([
    ['core/pipeline/x.ts', "import { parseTableMetadata } from '../lake/serde/table-metadata';\nexport const a = parseTableMetadata;"],
    ['core/app/deep/x.ts', "import type { TableMetadata } from '../../lake/model';\nexport type A = TableMetadata;"],
    ['core/query/x.ts', "export { createHttpStorage } from '../storage/http';"],
    ['core/api/x.ts', "export type A = import('../query/row-diff').RowDiff;"],
  ])('core/ folders import each other only through an index.ts (%s: %s)', async (file, code) => {
    const [result] = await eslint.lintText(code, { filePath: file });
    const messages = (result?.messages ?? []).filter((m) => m.ruleId === 'tidemark/core-folder-index').map((m) => m.message);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^core\/\w+ imports '.+', a file inside core\/\w+: import it through an index\.ts/);
  });

  it('allows core/ imports through an index.ts and within a folder', async () => {
    for (const [file, code] of [
      ['core/pipeline/x.ts', "import { parseTableMetadata } from '../lake';\nexport const a = parseTableMetadata;"],
      ['core/pipeline/x.ts', "import { appendRows } from '../lake/write';\nexport const a = appendRows;"],
      ['core/app/x.ts', "import { createLocalStorage } from '../storage/node';\nexport const a = createLocalStorage;"],
      ['core/lake/write/x.ts', "import type { TableMetadata } from '../model';\nexport type A = TableMetadata;"],
    ]) {
      const [result] = await eslint.lintText(code!, { filePath: file! });
      expect((result?.messages ?? []).filter((m) => m.ruleId === 'tidemark/core-folder-index'), `${file}: ${code}`).toEqual([]);
    }
  });

  it('allows the permitted imports', async () => {
    expect(await restrictedImports('renderer/src/x.ts', "import type { CallName } from '../../core/api';\nexport type A = CallName;")).toEqual([]);
    expect(await restrictedImports('renderer/src/x.ts', "import { q } from '../../core/query/engine';\nexport const a = q;")).toEqual([]);
    expect(await restrictedImports('core/lake/x.ts', "import { TidemarkError } from '../errors';\nexport const a = TidemarkError;")).toEqual([]);
    expect(await restrictedImports('electron/app.ts', "import { app } from 'electron';\nexport const a = app;")).toEqual([]);
  });
});
