/**
 * The items the binlog reader hands out (whole transactions, DDL statements, position marks) and
 * the queue between the reader, which zongji drives by events, and the consumer, which pulls with
 * next(). Backpressure: above the high-water mark the reader's socket is paused, and resumed once
 * the consumer has drained half of it.
 */
import { TidemarkError } from '../../errors/index';
import type { HeldRowsEvent } from './rows';
import type { BinlogPosition, PreparedXa } from '../offset';
import { PullQueue } from '../pull-queue';

interface ItemBase {
  /** Position just after this item: where to resume once it is consumed. */
  end: BinlogPosition;
  gtidSet: string | null;
  /** Binlog event time in ms since the epoch. */
  tsMs: number;
  /** XA transactions on captured tables prepared and not yet finished at `end` (shared, never mutated). */
  preparedXa: readonly PreparedXa[];
}

export type RawItem =
  | (ItemBase & { kind: 'tx'; gtid: string | undefined; rowsEvents: HeldRowsEvent[] })
  | (ItemBase & { kind: 'ddl'; gtid: string | undefined; db: string; sql: string })
  /** A commit with nothing captured, a heartbeat or a file-start event: the position moved. */
  | (ItemBase & { kind: 'position' });

/** The binlog reader's queue (pull-queue.ts), with backpressure and position marks merged. */
export class ItemQueue {
  private readonly queue: PullQueue<RawItem>;
  /** Whether the producer is paused by backpressure. */
  paused = false;

  /**
   * @param highWaterMark items queued before the producer is paused.
   * @param setPaused pauses (true) or resumes (false) the producer.
   */
  constructor(
    private readonly highWaterMark: number,
    private readonly setPaused: (paused: boolean) => void,
  ) {
    this.queue = new PullQueue<RawItem>(
      () => new TidemarkError('Cancelled', 'binlog reader closed'),
      (queued) => {
        if (this.paused && queued <= this.highWaterMark / 2) {
          this.paused = false;
          this.setPaused(false);
        }
      },
    );
  }

  push(item: RawItem): void {
    this.queue.push(item);
    if (!this.paused && this.queue.size >= this.highWaterMark) {
      this.paused = true;
      this.setPaused(true);
    }
  }

  /** Queues a position mark, merged into a position mark still queued last (idle or uncaptured traffic costs no growth). */
  pushPosition(end: BinlogPosition, gtidSet: string | null, preparedXa: readonly PreparedXa[], tsMs: number | null): void {
    const last = this.queue.last();
    if (last && last.kind === 'position') {
      last.end = end;
      last.gtidSet = gtidSet;
      last.preparedXa = preparedXa;
      if (tsMs !== null) last.tsMs = tsMs;
      return;
    }
    this.push({ kind: 'position', end, gtidSet, tsMs: tsMs ?? Date.now(), preparedXa });
  }

  /** The next item in binlog order; rejects with a TidemarkError once failed (after the queued items) or closed. */
  next(): Promise<RawItem> {
    return this.queue.next();
  }

  get failed(): boolean {
    return this.queue.failed;
  }

  /** Ends the queue with an error, delivered once the items before it are taken. The first failure wins. */
  fail(e: TidemarkError): void {
    this.queue.fail(e);
  }

  /** Ends the queue: a pending or later next() rejects with Cancelled. */
  close(): void {
    this.queue.close();
  }
}
