import { removePaimonOrphanFiles } from '../../core/lake/paimon/write';
import { removeOrphanFiles } from '../../core/lake/write';
import { parseCommandArgs, type CliRunner } from '../command';
import { isPaimonRoot, parseIsoTime, REMOTE_OPTIONS, writableTable } from './lake-args';

/** Java's default for the same action: long enough that no commit in flight still owns the file. */
const DEFAULT_AGE_MS = 3 * 86_400_000;

export const removeOrphansCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      'remove-orphans',
      argv,
      { 'older-than': { type: 'string' }, 'dry-run': { type: 'boolean' }, ...REMOTE_OPTIONS },
      { min: 1, max: 1, names: ['table'] },
    );
    const olderThanMs = values['older-than'] === undefined ? Date.now() - DEFAULT_AGE_MS : parseIsoTime('remove-orphans', '--older-than', values['older-than']);
    const dryRun = values['dry-run'] ?? false;
    const { root, env } = await writableTable('remove-orphans', positionals[0], values);
    // writableTable refuses a Paimon table on S3, so a Paimon table here is a local folder; a
    // catalog's tables are Iceberg tables.
    const paimon = !env.catalog && (await isPaimonRoot(root, env.storage));
    const { orphans } = paimon ? await removePaimonOrphanFiles(root, { olderThanMs, dryRun }) : await removeOrphanFiles(root, { olderThanMs, dryRun, env });
    if (orphans.length === 0) {
      io.out('no orphan files');
      return;
    }
    const bytes = orphans.reduce((a, o) => a + o.size, 0);
    const lines = orphans.map((o) => `${dryRun ? 'would remove' : 'removed'} ${o.path} (${o.size} bytes)`);
    lines.push(dryRun ? `${orphans.length} orphan file(s), ${bytes} bytes (dry run: nothing removed)` : `removed ${orphans.length} orphan file(s), ${bytes} bytes`);
    io.out(lines.join('\n'));
  },
};
