import { TidemarkError } from '../../core/errors';
import { expireSnapshots } from '../../core/lake/write';
import { expirePaimon } from '../../core/app/paimon-ops';
import { parseCommandArgs, stringifyJson, type CliRunner, type CliIo } from '../command';
import { isS3Url } from '../../core/storage/s3/index';
import { isPaimonRoot, parseIsoTime, REMOTE_OPTIONS, writableTable } from './lake-args';

/** A Paimon table: Java Paimon's expiry (tags keep their files), with a --dry-run preview. */
async function expirePaimonCommand(io: CliIo, root: string, o: { retainLast?: number; olderThanMs?: number; dryRun: boolean; json: boolean }): Promise<void> {
  const r = await expirePaimon(root, o);
  if (o.json) return io.out(stringifyJson(r));
  if (r.expiredSnapshotIds.length === 0) return io.out('nothing to expire');
  const verb = o.dryRun ? 'would expire' : 'expired';
  const lines = [`${verb} ${r.expiredSnapshotIds.length} snapshot(s): ${r.expiredSnapshotIds.join(', ')}; ${r.keptSnapshots} kept`];
  for (const p of r.paths) lines.push(`${o.dryRun ? 'would delete' : 'deleted'} ${p}`);
  lines.push(`${o.dryRun ? 'would delete' : 'deleted'} ${r.files} file(s), ${r.bytes} bytes`);
  io.out(lines.join('\n'));
}

export const expireCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      'expire',
      argv,
      { 'older-than': { type: 'string' }, 'retain-last': { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' }, ...REMOTE_OPTIONS },
      { min: 1, max: 1, names: ['table'] },
    );
    if (values['older-than'] === undefined && values['retain-last'] === undefined) {
      throw new TidemarkError('InvalidInput', 'expire: give --older-than ISO-8601, --retain-last N or both');
    }
    const retain = values['retain-last'];
    if (retain !== undefined && !/^[1-9]\d*$/.test(retain)) throw new TidemarkError('InvalidInput', `expire: --retain-last expects an integer ≥ 1, found ${JSON.stringify(retain)}`);
    const { root, env } = await writableTable('expire', positionals[0], values);
    const olderThanMs = values['older-than'] === undefined ? undefined : parseIsoTime('expire', '--older-than', values['older-than']);
    const retainLast = retain === undefined ? undefined : Number(retain);
    if (!env.catalog && !isS3Url(root) && (await isPaimonRoot(root))) return expirePaimonCommand(io, root, { retainLast, olderThanMs, dryRun: values['dry-run'] === true, json: values.json === true });
    const dryRun = values['dry-run'] === true;
    const result = await expireSnapshots(root, { olderThanMs, retainLast, dryRun, env });
    if (values.json) {
      io.out(stringifyJson(result));
      return;
    }
    if (result.expiredSnapshotIds.length === 0) {
      io.out('nothing to expire');
      return;
    }
    const d = result.deleted;
    const del = dryRun ? 'would delete' : 'deleted';
    const lines = [`${dryRun ? 'would expire' : 'expired'} ${result.expiredSnapshotIds.length} snapshot(s): ${result.expiredSnapshotIds.join(', ')}`];
    for (const p of d.manifestLists) lines.push(`${del} manifest list ${p}`);
    for (const p of d.manifests) lines.push(`${del} manifest ${p}`);
    for (const p of d.dataFiles) lines.push(`${del} data file ${p}`);
    for (const p of d.deleteFiles) lines.push(`${del} delete file ${p}`);
    for (const p of result.missing) lines.push(`already missing ${p}`);
    lines.push(`${del} ${d.manifestLists.length} manifest list(s), ${d.manifests.length} manifest(s), ${d.dataFiles.length} data file(s), ${d.deleteFiles.length} delete file(s)`);
    io.out(lines.join('\n'));
  },
};
