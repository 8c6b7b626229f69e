import { readFileEntries } from '../../core/app/lake-service';
import { parseCommandArgs, stringifyJson, type CliRunner } from '../command';
import { isPaimonRoot, lakeLocation, paimonSelectorOf, parseSelector, toWire, REMOTE_OPTIONS } from './lake-args';
import { listPaimonFiles } from '../../core/lake/paimon';

export const filesCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('files', argv, { ...REMOTE_OPTIONS, json: { type: 'boolean' }, snapshot: { type: 'string' } }, { min: 1, max: 1, names: ['table'] });
    const { root, storage, display } = await lakeLocation(positionals[0], values);
    if (await isPaimonRoot(root, storage)) {
      const files = (await listPaimonFiles(storage, root, paimonSelectorOf(parseSelector('files', values)))).map((f) => ({ ...f, path: display(f.path) }));
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
    const files = (await readFileEntries(storage, root, parseSelector('files', values))).map((f) => ({ ...f, path: display(f.path), deletes: f.deletes.map(display) }));
    if (values.json) {
      io.out(stringifyJson(toWire(files)));
      return;
    }
    if (files.length === 0) io.out('no files');
    for (const f of files) {
      io.out(`${f.content}\t${f.recordCount} rows\t${f.fileSizeInBytes} B\tseq ${f.sequenceNumber}\tpartition ${JSON.stringify(toWire(f.partition))}\t${f.path}`);
    }
  },
};
