import { tableToIPC, type Table } from 'apache-arrow';
import { Table as WasmTable, transformParquetStream, type RecordBatch as WasmRecordBatch } from 'parquet-wasm';
import { TidemarkError, toWriteError } from '../../errors';
import type { ObjectWriter } from '../../storage';
import { FILE_CONTENT, type DataFile, type TableMetadata } from '../model';
import { writeSchema } from '../serde/schema-json';
import { columnsToArrow, type FixedWidthColumn, type VariableWidthColumn } from './arrow-build';
import type { ColumnBatch } from './column-batch';
import { childPath, writeStorage } from './commit';
import { describeFile, type FileWriteContext } from './data-files';
import { addMetrics, writerProperties, type FileMetrics } from './parquet-write';

/** Iceberg's table property for the size data files are rolled at, and its default (Java's). */
export const PROPERTY_TARGET_FILE_SIZE = 'write.target-file-size-bytes';
export const DEFAULT_TARGET_FILE_SIZE_BYTES = 128 * 1024 * 1024;
/** Rows per Parquet row group of a rolling file: the granularity of its size check and of its encoder's memory. */
export const ROLLING_ROW_GROUP_ROWS = 262_144;

/**
 * Rows per row group for files rolled at `targetBytes`: several row groups per file (at ≥ 16 bytes a
 * compressed row, 8 or more), so that the encoder hands bytes out while a file grows (the size
 * check sees only bytes handed out); at most ROLLING_ROW_GROUP_ROWS, at least 1024.
 */
export function rowGroupRowsFor(targetBytes: number): number {
  return Math.max(1024, Math.min(ROLLING_ROW_GROUP_ROWS, Math.floor(targetBytes / 128)));
}

/** The table's `write.target-file-size-bytes` (default 128 MiB); a value that is not a positive integer is InvalidInput. */
export function targetFileSizeBytes(m: TableMetadata): number {
  const text = m.properties[PROPERTY_TARGET_FILE_SIZE];
  if (text === undefined) return DEFAULT_TARGET_FILE_SIZE_BYTES;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n <= 0) {
    throw new TidemarkError('InvalidInput', `${m.location}: table property ${PROPERTY_TARGET_FILE_SIZE} must be a positive number of bytes, found ${JSON.stringify(text)}`, { path: m.location });
  }
  return n;
}

/**
 * One Parquet file being written row group by row group: batches go to parquet-wasm's streaming
 * writer, which encodes them and hands finished row groups' bytes back (buffered a little: they
 * come tens of thousands of rows behind), written to the storage's streaming writer at once (a
 * local temp file renamed at close, or an S3 multipart upload of one part at a time). Memory is
 * the row groups being encoded and one upload part, not the file. `write` resolves once the encoder has
 * taken the batch (so a caller that awaits it never runs ahead of the encoder).
 */
class OpenParquetFile {
  bytes = 0;
  rows = 0;
  metrics: FileMetrics | null = null;
  private readonly waiting: WasmRecordBatch[] = [];
  private taken: (() => void)[] = [];
  private wantMore: (() => void) | null = null;
  private closing = false;
  private failure: TidemarkError | null = null;
  private drained: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly handle: ObjectWriter,
  ) {}

  static async open(ctx: FileWriteContext, first: Table, rowGroupRows: number): Promise<OpenParquetFile> {
    const path = childPath(ctx.root, 'data', `${ctx.env.uuid()}.parquet`);
    // Nothing is visible at `path` until close() publishes the whole file.
    const handle = writeStorage(ctx.env).createWriter(path);
    const file = new OpenParquetFile(path, handle);
    const props = writerProperties(first, JSON.stringify(writeSchema(ctx.schema)), ctx.codec).setMaxRowGroupSize(rowGroupRows).build();
    // Pulled one batch at a time (highWaterMark 0): the encoder asks for the next batch only after
    // it has written the previous one.
    const input = new ReadableStream<WasmRecordBatch>(
      {
        pull: (controller) =>
          new Promise<void>((resolve) => {
            const give = () => {
              const batch = file.waiting.shift();
              if (batch) {
                controller.enqueue(batch);
                const done = file.taken.shift();
                done?.();
              } else if (file.closing) controller.close();
              else {
                file.wantMore = give;
                return;
              }
              file.wantMore = null;
              resolve();
            };
            give();
          }),
      },
      { highWaterMark: 0 },
    );
    const taken = file.push(first);
    // The writer reads the first batch (its schema) before it returns the output stream.
    const output = await transformParquetStream(input, props);
    await taken;
    const reader = (output as ReadableStream<Uint8Array>).getReader();
    file.drained = (async () => {
      for (;;) {
        const r = await reader.read();
        if (r.done) return;
        await handle.write(r.value);
        file.bytes += r.value.length;
      }
    })().catch((e: unknown) => {
      file.failure ??= e instanceof TidemarkError ? e : toWriteError(e, path);
    });
    return file;
  }

  private push(table: Table): Promise<void> {
    this.metrics = addMetrics(this.metrics, table);
    this.rows += table.numRows;
    const wasm = WasmTable.fromIPCStream(tableToIPC(table, 'stream'));
    const batches = wasm.recordBatches();
    wasm.free();
    const last = new Promise<void>((resolve) => {
      for (let i = 0; i < batches.length; i++) this.taken.push(i === batches.length - 1 ? resolve : () => undefined);
      if (batches.length === 0) resolve();
    });
    this.waiting.push(...batches);
    this.wantMore?.();
    return last;
  }

  async write(table: Table): Promise<void> {
    if (this.failure) throw this.failure;
    await this.push(table);
  }

  /** Ends the file (its footer written) and closes it: its size and metrics. */
  async close(): Promise<{ path: string; size: number; metrics: FileMetrics }> {
    this.closing = true;
    this.wantMore?.();
    await this.drained;
    if (this.failure) {
      await this.handle.abort().catch(() => undefined);
      throw this.failure;
    }
    // A failed close aborts by itself (ObjectWriter): nothing is left at the path.
    await this.handle.close().catch((e: unknown) => {
      this.failure ??= e instanceof TidemarkError ? e : toWriteError(e, this.path);
    });
    if (this.failure) throw this.failure;
    return { path: this.path, size: this.bytes, metrics: this.metrics! };
  }

  /** Stops writing and removes the file (a failed round: it was never published). */
  async discard(): Promise<void> {
    this.closing = true;
    this.wantMore?.();
    await this.drained;
    await this.handle.abort().catch(() => undefined);
  }
}

/**
 * Data files of an unpartitioned table written as rows arrive (as Flink's rolling Iceberg writers
 * do): batches go into Parquet row groups of the open file, which is finished and a new one opened
 * once it reaches the target size. `finish` ends the open file and returns every file written; none
 * of them is visible until a commit adds them, so a process that dies before leaves orphans that no
 * reader sees (remove-orphans.ts deletes them).
 */
export class RollingDataFileWriter {
  private current: OpenParquetFile | null = null;
  private readonly finished: DataFile[] = [];

  constructor(
    private readonly ctx: FileWriteContext,
    private readonly targetBytes: number,
    private readonly rowGroupRows = rowGroupRowsFor(targetBytes),
  ) {
    if (ctx.spec.fields.length > 0) throw new TidemarkError('Internal', `${ctx.root}: rolling data files are written for unpartitioned tables only`, { path: ctx.root });
  }

  /** Rows written so far (finished and open files). */
  get rows(): number {
    return this.finished.reduce((n, f) => n + f.recordCount, 0) + (this.current?.rows ?? 0);
  }

  /**
   * Appends `batch` (canonical values, see ColumnBatch; a column may also come as a
   * FixedWidthColumn or, a string, as a VariableWidthColumn) to the open file, rolling to a new one first when it has reached the target size.
   */
  async write(batch: ColumnBatch | { length: number; columns: Record<string, unknown[] | FixedWidthColumn | VariableWidthColumn> }): Promise<void> {
    if (batch.length === 0) return;
    const table = columnsToArrow(this.ctx.schema.fields, batch.columns, batch.length);
    if (this.current && this.estimatedBytes(this.current) >= this.targetBytes) await this.roll();
    if (this.current) await this.current.write(table);
    else this.current = await OpenParquetFile.open(this.ctx, table, this.rowGroupRows);
  }

  /**
   * The open file's size with its rows so far. The encoder hands finished row groups out well
   * behind the rows it has taken (tens of thousands of rows), so the bytes written undercount:
   * once a file of this writer is finished its bytes per row predict the size; the first file rolls
   * on its written bytes and passes the target by that lag.
   */
  private estimatedBytes(file: OpenParquetFile): number {
    const last = this.finished[this.finished.length - 1];
    return last ? Math.max(file.bytes, Math.round((file.rows * last.fileSizeInBytes) / Math.max(1, last.recordCount))) : file.bytes;
  }

  private async roll(): Promise<void> {
    const file = this.current!;
    this.current = null;
    const { path, size, metrics } = await file.close();
    this.finished.push(describeFile(FILE_CONTENT.data, path, size, [], metrics));
  }

  /** Finishes the open file: every file written, in order. */
  async finish(): Promise<DataFile[]> {
    if (this.current) await this.roll();
    return [...this.finished];
  }

  /** Removes the open file (finished ones stay as orphans until removed by maintenance). */
  async discard(): Promise<void> {
    const file = this.current;
    this.current = null;
    await file?.discard();
  }
}
