import type { CliCommand } from '../command';
import { serveCommand, startCommand } from './app';
import { tablesCommand } from './tables';
import { snapshotsCommand } from './snapshots';
import { schemaCommand } from './schema';
import { filesCommand } from './files';
import { countCommand, scanCommand } from './scan';
import { versionCommand } from './version';

/** Every `tidemark` command, in the order `--help` lists them. Later issues add theirs here. */
export const COMMANDS: CliCommand[] = [
  startCommand,
  serveCommand,
  tablesCommand,
  snapshotsCommand,
  schemaCommand,
  filesCommand,
  scanCommand,
  countCommand,
  versionCommand,
];
