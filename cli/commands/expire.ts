import { TidemarkError } from '../../core/errors';
import { expireSnapshots } from '../../core/lake/write';
import { parseCommandArgs, stringifyJson, type CliRunner } from '../command';
import { parseIsoTime, tableArg } from './lake-args';

export const expireCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      'expire',
      argv,
      { 'older-than': { type: 'string' }, 'retain-last': { type: 'string' }, json: { type: 'boolean' } },
      { min: 1, max: 1, names: ['table'] },
    );
    if (values['older-than'] === undefined && values['retain-last'] === undefined) {
      throw new TidemarkError('InvalidInput', 'expire: give --older-than ISO-8601, --retain-last N or both');
    }
    const retain = values['retain-last'];
    if (retain !== undefined && !/^[1-9]\d*$/.test(retain)) throw new TidemarkError('InvalidInput', `expire: --retain-last expects an integer ≥ 1, found ${JSON.stringify(retain)}`);
    const result = await expireSnapshots(tableArg(positionals[0]), {
      olderThanMs: values['older-than'] === undefined ? undefined : parseIsoTime('expire', '--older-than', values['older-than']),
      retainLast: retain === undefined ? undefined : Number(retain),
    });
    if (values.json) {
      io.out(stringifyJson(result));
      return;
    }
    if (result.expiredSnapshotIds.length === 0) {
      io.out('nothing to expire');
      return;
    }
    const d = result.deleted;
    const lines = [`expired ${result.expiredSnapshotIds.length} snapshot(s): ${result.expiredSnapshotIds.join(', ')}`];
    for (const p of d.manifestLists) lines.push(`deleted manifest list ${p}`);
    for (const p of d.manifests) lines.push(`deleted manifest ${p}`);
    for (const p of d.dataFiles) lines.push(`deleted data file ${p}`);
    for (const p of d.deleteFiles) lines.push(`deleted delete file ${p}`);
    for (const p of result.missing) lines.push(`already missing ${p}`);
    lines.push(`deleted ${d.manifestLists.length} manifest list(s), ${d.manifests.length} manifest(s), ${d.dataFiles.length} data file(s), ${d.deleteFiles.length} delete file(s)`);
    io.out(lines.join('\n'));
  },
};
