import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository / installed package root (this file is core/app/paths.ts). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const RENDERER_DIST = resolve(PACKAGE_ROOT, 'renderer/dist');
