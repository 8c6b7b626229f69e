import type { CliCommand } from '../command';
import { serveCommand, startCommand } from './app';
import { tablesCommand } from './tables';
import { snapshotsCommand } from './snapshots';
import { schemaCommand } from './schema';
import { filesCommand } from './files';
import { countCommand, scanCommand } from './scan';
import { compactCommand, demoCommand } from './demo';
import { expireCommand } from './expire';
import { removeOrphansCommand } from './remove-orphans';
import { diffCommand, exportCommand, historyCommand, queryCommand, schemaDiffCommand, statsCommand } from './query';
import { versionCommand } from './version';
import { validateCommand } from './validate';
import { exportFlinkCommand } from './export-flink';
import { planCommand } from './plan';
import { syncCommand } from './sync';
import { branchCommand, cherryPickCommand, rollbackCommand, tagCommand } from './refs';
import { catalogCommand } from './catalog';

/** Every `tidemark` command, in the order `--help` lists them. Later issues add theirs here. */
export const COMMANDS: CliCommand[] = [
  startCommand,
  serveCommand,
  tablesCommand,
  snapshotsCommand,
  tagCommand,
  branchCommand,
  rollbackCommand,
  cherryPickCommand,
  schemaCommand,
  filesCommand,
  scanCommand,
  countCommand,
  demoCommand,
  compactCommand,
  expireCommand,
  removeOrphansCommand,
  queryCommand,
  schemaDiffCommand,
  diffCommand,
  historyCommand,
  statsCommand,
  exportCommand,
  versionCommand,
  validateCommand,
  exportFlinkCommand,
  planCommand,
  syncCommand,
  catalogCommand,
];
