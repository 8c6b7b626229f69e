import { planScan, type PlannedFile } from '../../core/lake';
import { createLocalStorage } from '../../core/storage/local';
import { parseCommandArgs, stringifyJson, type CliCommand } from '../command';
import { isPaimonRoot, paimonSelectorOf, parseSelector, tableArg, toWire } from './lake-args';
import { listPaimonFiles } from '../../core/lake/paimon';

const CONTENT = ['data', 'position-deletes', 'equality-deletes'] as const;

function fileJson(f: PlannedFile, appliedDeletes?: PlannedFile[]) {
  return {
    content: CONTENT[f.content],
    path: f.path,
    recordCount: f.recordCount,
    fileSizeInBytes: f.fileSizeInBytes,
    sequenceNumber: f.sequenceNumber,
    fileSequenceNumber: f.fileSequenceNumber,
    specId: f.specId,
    partition: toWire(f.partition),
    ...(f.dataFile.equalityIds ? { equalityIds: f.dataFile.equalityIds } : {}),
    ...(appliedDeletes ? { deletes: appliedDeletes.map((d) => d.path) } : {}),
  };
}

export const filesCommand: CliCommand = {
  name: 'files',
  summary: 'List the data and delete files of a snapshot (Iceberg or Paimon) with sequence numbers and partitions',
  usage: 'files <table> [--snapshot ID] [--json]',
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('files', argv, { json: { type: 'boolean' }, snapshot: { type: 'string' } }, { min: 1, max: 1, names: ['table'] });
    const root = tableArg(positionals[0]);
    if (await isPaimonRoot(root)) {
      const files = await listPaimonFiles(createLocalStorage(), root, paimonSelectorOf(parseSelector('files', values)));
      if (values.json) {
        io.out(stringifyJson(files.map((f) => ({ ...f, partition: toWire(f.partition), minKey: toWire(f.minKey), maxKey: toWire(f.maxKey), valueStats: toWire(f.valueStats) }))));
        return;
      }
      if (files.length === 0) io.out('no files');
      for (const f of files) {
        io.out(`data\t${f.recordCount} rows\t${f.fileSizeBytes} B\tlevel ${f.level}\tseq ${f.minSequenceNumber}..${f.maxSequenceNumber}\tpartition ${JSON.stringify(toWire(f.partition))} bucket ${f.bucket}${f.deletionVector ? `\tdeletion vector ${f.deletionVector.deletedRows ?? '?'} rows` : ''}${f.readByScan ? '' : '\t(not read: level 0 of a deletion-vector table)'}\t${f.path}`);
      }
      return;
    }
    const plan = await planScan(createLocalStorage(), root, parseSelector('files', values));
    const files = [...plan.files.map((f) => fileJson(f, f.deletes)), ...plan.deleteFiles.map((f) => fileJson(f))];
    if (values.json) {
      io.out(stringifyJson(files));
      return;
    }
    if (files.length === 0) io.out('no files');
    for (const f of files) {
      io.out(`${f.content}\t${f.recordCount} rows\t${f.fileSizeInBytes} B\tseq ${f.sequenceNumber}\tpartition ${JSON.stringify(f.partition)}\t${f.path}`);
    }
  },
};
