import { loadTable } from '../../core/lake';
import { createLocalStorage } from '../../core/storage/local';
import { parseCommandArgs, stringifyJson, type CliCommand } from '../command';
import { isPaimonRoot, tableArg } from './lake-args';
import { listPaimonSnapshots } from '../../core/lake/paimon';

export const snapshotsCommand: CliCommand = {
  name: 'snapshots',
  summary: 'List the snapshots of an Iceberg or Paimon table (ids as decimal strings in JSON)',
  usage: 'snapshots <table> [--json]',
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('snapshots', argv, { json: { type: 'boolean' } }, { min: 1, max: 1, names: ['table'] });
    const root = tableArg(positionals[0]);
    if (await isPaimonRoot(root)) {
      const list = await listPaimonSnapshots(createLocalStorage(), root);
      if (values.json) {
        io.out(stringifyJson(list));
        return;
      }
      for (const s of list) io.out(`${s === list.at(-1) ? '*' : ' '} ${s.snapshotId}\t${new Date(s.timestampMs).toISOString()}\t${s.operation}\tschema ${s.schemaId}\tdelta ${s.summary.deltaRecordCount ?? 0} records, total ${s.summary.totalRecordCount ?? '?'}`);
      return;
    }
    const { metadata } = await loadTable(createLocalStorage(), root);
    const list = metadata.snapshots.map((s) => ({
      snapshotId: s.snapshotId,
      parentSnapshotId: s.parentSnapshotId,
      sequenceNumber: s.sequenceNumber,
      timestampMs: s.timestampMs,
      operation: s.summary.operation ?? null,
      schemaId: s.schemaId,
      summary: s.summary,
    }));
    if (values.json) {
      io.out(stringifyJson(list));
      return;
    }
    if (list.length === 0) {
      io.out('no snapshots');
      return;
    }
    const current = metadata.currentSnapshotId;
    for (const s of list) {
      const mark = s.snapshotId === current ? '*' : ' ';
      io.out(`${mark} ${s.snapshotId}\tseq ${s.sequenceNumber}\t${new Date(s.timestampMs).toISOString()}\t${s.operation ?? '?'}\tschema ${s.schemaId ?? '-'}\t+${s.summary['added-records'] ?? 0} rows, total ${s.summary['total-records'] ?? '?'}`);
    }
  },
};
