/**
 * The running state of one source: where the stream stands (file:pos, GTIDs, snapshot progress),
 * the schema catalog, and the step that turns one raw binlog item into source records with the
 * offset that follows it.
 */
import type { TableMapEntry } from '@vlasky/zongji';
import { TidemarkError } from '../../errors/index';
import { mapColumnType } from '../schema/type-map';
import type { ResolvedConfig } from '../config';
import type { BinlogReader, RawItem } from './reader';
import { convertTransaction, convertTransactionParts, type RowFilter } from '../change-processor';
import type { SchemaCatalog } from '../schema/catalog';
import { handleDdl, type DdlContext } from '../ddl/handler';
import { guessDdlTables } from '../ddl/parser';
import { comparePositions } from '../offset';
import type { BinlogPosition, PreparedXa, SnapshotState, SourceOffset } from '../offset';
import { formatTableId, type SourceRecord, type TableId, type TableSchema } from '../types';

function schemaFromTableMap(table: TableId, tm: TableMapEntry, config: ResolvedConfig): TableSchema {
  return {
    table,
    primaryKey: [],
    columns: tm.columnSchemas.map((c, i) => {
      const mysqlType = c.COLUMN_TYPE + (c.UNSIGNED && !/unsigned/.test(c.COLUMN_TYPE) ? ' unsigned' : '');
      const where = `${formatTableId(table)}.${c.COLUMN_NAME}`;
      return { name: c.COLUMN_NAME, mysqlType, icebergType: mapColumnType(mysqlType, { tinyInt1IsBoolean: config.tinyInt1IsBoolean }, where), nullable: true, position: i + 1 };
    }),
  };
}

export class StreamState {
  pos: BinlogPosition;
  gtidSet: string | null;
  snapshot: SnapshotState | null;
  /** XA transactions prepared and unfinished at `pos` (their rows come at their XA COMMIT). */
  preparedXa: readonly PreparedXa[];
  /** Newly-added-table snapshot rounds begun (offset field `round`). */
  round = 0;
  /**
   * Newly added tables (`db.table`) → the binlog end read before their schemas: their rows and DDL
   * up to it are passed over (their snapshot's SELECTs and schemas already include them; a replayed
   * ALTER would apply twice and an old row image would carry the old columns).
   */
  readonly catchUp = new Map<string, BinlogPosition>();
  private lastHeartbeatAt: number;
  /** Transactions committed before this time (ms) are passed over (startup mode timestamp). */
  skipBeforeMs: number | null = null;

  constructor(
    readonly config: ResolvedConfig,
    readonly reader: BinlogReader,
    readonly catalog: SchemaCatalog,
    readonly ddl: DdlContext,
    start: BinlogPosition,
    gtidSet: string | null,
    snapshot: SnapshotState | null,
    private readonly readSchema: (id: TableId) => Promise<TableSchema | null>,
    preparedXa: readonly PreparedXa[] = [],
  ) {
    this.pos = { file: start.file, pos: start.pos };
    this.gtidSet = gtidSet;
    this.snapshot = snapshot;
    this.preparedXa = preparedXa;
    this.lastHeartbeatAt = config.now();
  }

  /** The resume point for everything handed out so far (a fresh object each time: plain data). */
  offset(): SourceOffset {
    const s = this.snapshot;
    return {
      file: this.pos.file,
      pos: this.pos.pos,
      gtidSet: this.gtidSet,
      snapshot: s ? { tables: s.tables.map((t) => ({ ...t })), tableIndex: s.tableIndex, lastKey: s.lastKey, ...(s.chunks !== undefined ? { chunks: s.chunks } : {}) } : null,
      schemas: this.catalog.snapshotList(),
      ...(this.preparedXa.length > 0 ? { preparedXa: this.preparedXa.map((x) => ({ xid: x.xid, start: { ...x.start } })) } : {}),
      ...(this.round > 0 ? { round: this.round } : {}),
    };
  }

  /**
   * Pulls the next raw item from the binlog and returns the records it yields (often none), to be
   * iterated before the next step: a large transaction's parts are converted as they are taken.
   */
  async step(filter: RowFilter | null): Promise<Iterable<SourceRecord>> {
    const item = await this.reader.next();
    return await this.process(item, filter);
  }

  private advance(item: RawItem): SourceOffset {
    const before = this.offset();
    this.pos = item.end;
    if (item.gtidSet !== null) this.gtidSet = item.gtidSet;
    this.preparedXa = item.preparedXa;
    return before;
  }

  /**
   * Schemas for the item's tables; returns the item without the rows of tables that match the
   * patterns but are not captured (created during the binlog phase while
   * scan.binlog.newly-added-table.enabled is off: the reader filters by pattern only).
   */
  private async ensureSchemas(item: Extract<RawItem, { kind: 'tx' }>): Promise<Extract<RawItem, { kind: 'tx' }>> {
    let kept: typeof item.rowsEvents | null = null;
    for (let i = 0; i < item.rowsEvents.length; i++) {
      const ev = item.rowsEvents[i]!;
      if (this.catchUp.size > 0 && this.caughtUpBefore(ev.table, item.end)) {
        kept ??= item.rowsEvents.slice(0, i);
        continue;
      }
      if (this.catalog.has(ev.table)) {
        kept?.push(ev);
        continue;
      }
      if (!this.catalog.isCaptured(ev.table)) {
        kept ??= item.rowsEvents.slice(0, i);
        continue;
      }
      kept?.push(ev);
      // A captured table the start-up listing missed (created just before the stream started), or
      // one replayed from history that has since been renamed or dropped: then the binlog's own
      // column metadata (binlog_row_metadata=FULL) describes it; in schema-history mode there is none.
      const schema = (await this.readSchema(ev.table)) ?? (ev.tableMap && !this.catalog.columnsFromHistory ? schemaFromTableMap(ev.table, ev.tableMap, this.config) : null);
      if (!schema) throw new TidemarkError('NotFound', `rows for captured table ${formatTableId(ev.table)} at ${item.end.file}:${item.end.pos}, but its schema is unknown`, { table: formatTableId(ev.table) });
      this.catalog.set(schema);
    }
    return kept === null ? item : { ...item, rowsEvents: kept };
  }

  /** Whether `table` is a newly added table and `end` is at or before its catch-up point. */
  private caughtUpBefore(table: TableId, end: BinlogPosition): boolean {
    const until = this.catchUp.get(formatTableId(table));
    if (!until) return false;
    if (comparePositions(end, until) <= 0) return true;
    this.catchUp.delete(formatTableId(table));
    return false;
  }

  /**
   * A DDL statement before the catch-up point of newly added tables: skipped when it touches only
   * such tables (their schemas were read after it), applied when it touches none; touching both
   * kinds cannot be split and stops the stream naming it.
   */
  private skipCaughtUpDdl(item: Extract<RawItem, { kind: 'ddl' }>): boolean {
    const touched = guessDdlTables(item.sql, item.db).filter((t) => this.catalog.matches(t));
    const old = touched.filter((t) => this.caughtUpBefore(t, item.end));
    if (old.length === 0) return false;
    if (old.length === touched.length) return true;
    throw new TidemarkError(
      'Unsupported',
      `DDL at ${item.end.file}:${item.end.pos} touches newly added table ${formatTableId(old[0]!)} (being snapshotted) and other captured tables in one statement: ${item.sql.slice(0, 300)}`,
      { statement: item.sql.slice(0, 1000) },
    );
  }

  async process(item: RawItem, filter: RowFilter | null): Promise<Iterable<SourceRecord>> {
    switch (item.kind) {
      case 'tx': {
        if (this.skipBeforeMs !== null && item.tsMs < this.skipBeforeMs) {
          this.advance(item);
          return [];
        }
        this.skipBeforeMs = null;
        const captured = await this.ensureSchemas(item);
        this.advance(item);
        const offset = this.offset();
        if (!filter) {
          if (captured.rowsEvents.length === 0) return this.maybeHeartbeat();
          return transactionParts(convertTransactionParts(this.catalog, captured, offset, TRANSACTION_PART_BYTES), offset, item);
        }
        if (filter.prepare && captured.rowsEvents.length > 0) await filter.prepare(captured.rowsEvents);
        const events = convertTransaction(this.catalog, captured, offset, filter);
        if (events.length === 0) return this.maybeHeartbeat();
        const batch = { events, endOffset: offset, commitTsMs: item.tsMs, ...(item.gtid ? { gtid: item.gtid } : {}) };
        return [{ kind: 'transaction', batch }];
      }
      case 'ddl': {
        if (this.catchUp.size > 0 && this.skipCaughtUpDdl(item)) {
          this.advance(item);
          return this.maybeHeartbeat();
        }
        const previous = this.advance(item);
        if (this.skipBeforeMs !== null && item.tsMs < this.skipBeforeMs) {
          // Schema changes are applied to the catalog even when their time is skipped: later rows need them.
          await handleDdl(this.ddl, item.sql, item.db);
          return [];
        }
        const drafts = await handleDdl(this.ddl, item.sql, item.db);
        const offset = this.offset();
        // A statement touching several tables yields several events; only the last carries the
        // offset past the statement, so committing a prefix of them re-reads the statement.
        return drafts.map((d, i) => ({
          kind: 'schema-change' as const,
          event: { ...d, ddl: item.sql, opTsMs: item.tsMs, offset: i === drafts.length - 1 ? offset : previous },
        }));
      }
      case 'position':
        this.advance(item);
        return this.maybeHeartbeat();
    }
  }

  private maybeHeartbeat(): SourceRecord[] {
    const now = this.config.now();
    if (now - this.lastHeartbeatAt < this.config.heartbeatIntervalMs) return [];
    this.lastHeartbeatAt = now;
    return [{ kind: 'heartbeat', offset: this.offset() }];
  }
}

/**
 * Binlog bytes of rows events per part of a large transaction (TransactionBatch.partial): ~450
 * changes of a narrow table (two rows events of the server's 8 KiB), cut between rows events.
 * Smaller parts leave fewer converted changes alive at each young-generation collection
 * (docs/perf-notes.md, "Measurements behind code choices": 16 KiB against 8, 64 and 256).
 */
export const TRANSACTION_PART_BYTES = 16 * 1024;

/** The transaction records of `parts`, each but the last marked partial. */
function* transactionParts(parts: ReturnType<typeof convertTransactionParts>, offset: SourceOffset, item: Extract<RawItem, { kind: 'tx' }>): Generator<SourceRecord, void, undefined> {
  const base = { endOffset: offset, commitTsMs: item.tsMs, ...(item.gtid ? { gtid: item.gtid } : {}) };
  for (const { events, last } of parts) yield { kind: 'transaction', batch: last ? { events, ...base } : { events, ...base, partial: true } };
}
