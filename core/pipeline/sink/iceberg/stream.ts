import { toTidemarkError } from '../../../errors';
import type { DataFile } from '../../../lake';
import { currentSchema, loadWritableTable, parquetCodec, RollingDataFileWriter, targetFileSizeBytes, type WriteEnv } from '../../../lake/write';
import { toWritableColumns, type SealedChanges } from '../buffer';

/**
 * The streamed parts (SealedChanges.stream) of one table's current round in the sink: each part is
 * converted and written into the table's rolling data files as it arrives, one after the other, so
 * the sink holds one part and the open file's row group, not the round. Nothing is visible until
 * the round's commit adds the files (finish); a failure is kept and thrown by finish.
 */
export class StreamedTable {
  private chain: Promise<void> = Promise.resolve();
  private writer: RollingDataFileWriter | null = null;
  private failure: unknown = null;
  /** Changes (= rows, each its own key) streamed. */
  rows = 0;

  constructor(
    readonly root: string,
    readonly table: string,
    private readonly env: WriteEnv,
  ) {}

  /** Queues a streamed part for writing; `done` runs once it is written (or failed). */
  add(part: SealedChanges, done: () => void): void {
    this.chain = this.chain.then(() => this.write(part)).finally(done);
  }

  private async write(part: SealedChanges): Promise<void> {
    if (this.failure !== null) return;
    try {
      if (!this.writer) {
        // The round's schema: the runner commits a round before any schema change of its table.
        const m = (await loadWritableTable(this.root, this.env)).metadata;
        const spec = m.partitionSpecs.find((s) => s.specId === m.defaultSpecId)!;
        this.writer = new RollingDataFileWriter({ root: this.root, schema: currentSchema(m), spec, env: this.env, codec: parquetCodec(m) }, targetFileSizeBytes(m));
      }
      await this.writer.write({ length: part.count, columns: toWritableColumns(part) });
      this.rows += part.count;
    } catch (e) {
      this.failure = e;
    }
  }

  /** Waits for the queued parts and finishes the open file: every data file of the round, in order. */
  async finish(): Promise<DataFile[]> {
    await this.chain;
    if (this.failure !== null) {
      await this.writer?.discard();
      throw toTidemarkError(this.failure);
    }
    return this.writer ? this.writer.finish() : [];
  }
}
