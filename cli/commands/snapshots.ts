import { describePaimonSnapshots } from '../../core/app/paimon-service';
import { describeSnapshots } from '../../core/app/lake-service';
import { loadTable } from '../../core/lake';
import { parseCommandArgs, stringifyJson, type CliRunner } from '../command';
import { isPaimonRoot, lakeLocation, REMOTE_OPTIONS } from './lake-args';

/**
 * `tidemark snapshots`: the app's snapshot view (core/app: sorted by sequence number, operation
 * 'unknown' when the summary has none), so the CLI and the timeline never disagree.
 */
export const snapshotsCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('snapshots', argv, { ...REMOTE_OPTIONS, json: { type: 'boolean' } }, { min: 1, max: 1, names: ['table'] });
    const { root, storage } = await lakeLocation(positionals[0], values);
    let list;
    let current: bigint | null;
    if (await isPaimonRoot(root, storage)) {
      list = await describePaimonSnapshots(storage, root);
      current = list.at(-1)?.snapshotId ?? null;
    } else {
      const table = await loadTable(storage, root);
      list = describeSnapshots(table);
      current = table.metadata.currentSnapshotId;
    }
    if (values.json) {
      io.out(stringifyJson(list));
      return;
    }
    if (list.length === 0) {
      io.out('no snapshots');
      return;
    }
    for (const s of list) {
      const total = s.totalRecords === null ? '?' : String(s.totalRecords);
      io.out(`${s.snapshotId === current ? '*' : ' '} ${s.snapshotId}\tseq ${s.sequenceNumber}\t${new Date(s.timestampMs).toISOString()}\t${s.operation}\tschema ${s.schemaId ?? '-'}\t+${s.addedRecords ?? 0} rows, total ${total}`);
    }
  },
};
