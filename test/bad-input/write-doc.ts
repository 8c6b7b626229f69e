// Regenerates docs/bad-input.md from test/bad-input/rows.ts.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderDoc } from './rows';

writeFileSync(resolve(import.meta.dirname, '../../docs/bad-input.md'), renderDoc());
