/**
 * Child process of crash.test.ts: commits to the table at argv[2] in a loop until it is killed.
 * Batch i appends (i % 5) + 1 rows with ids i * 100 + k and summary `crash.batch` = i; every fourth
 * batch is followed by a compaction. After each commit returns it prints what it published:
 *   appended <i> <rows>
 *   published <metadata file name> <sha256 of its bytes>
 * so the parent knows which commits were acknowledged before the kill -9.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { appendRows, rewriteDataFiles } from '../../core/lake/write';

const root = process.argv[2]!;
const say = (line: string) => process.stdout.write(`${line}\n`);
const published = (file: string) => say(`published ${basename(file)} ${createHash('sha256').update(readFileSync(file)).digest('hex')}`);

say('ready');
for (let i = 0; ; i++) {
  const size = (i % 5) + 1;
  const rows = Array.from({ length: size }, (_, k) => ({ id: BigInt(i * 100 + k), batch: i }));
  const { metadataFile } = await appendRows(root, rows, { summary: { 'crash.batch': String(i) } });
  say(`appended ${i} ${size}`);
  published(metadataFile);
  if (i % 4 === 3) published((await rewriteDataFiles(root)).metadataFile);
}
