/**
 * The items the binlog reader hands out (whole transactions, DDL statements, position marks) and
 * the queue between the reader, which zongji drives by events, and the consumer, which pulls with
 * next(). Backpressure: above the high-water mark the reader's socket is paused, and resumed once
 * the consumer has drained half of it.
 */
import { TidemarkError } from '../errors/index';
import type { HeldRowsEvent } from './binlog-rows';
import type { BinlogPosition, PreparedXa } from './offset';

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

export class ItemQueue {
  private readonly items: RawItem[] = [];
  private head = 0;
  private waiter: { resolve: (i: RawItem) => void; reject: (e: unknown) => void } | null = null;
  private failure: TidemarkError | null = null;
  private closed = false;
  /** Whether the producer is paused by backpressure. */
  paused = false;

  /**
   * @param highWaterMark items queued before the producer is paused.
   * @param setPaused pauses (true) or resumes (false) the producer.
   */
  constructor(
    private readonly highWaterMark: number,
    private readonly setPaused: (paused: boolean) => void,
  ) {}

  push(item: RawItem): void {
    this.items.push(item);
    this.flush();
    if (!this.paused && this.items.length - this.head >= this.highWaterMark) {
      this.paused = true;
      this.setPaused(true);
    }
  }

  /** Queues a position mark, merged into a position mark still queued last (idle or uncaptured traffic costs no growth). */
  pushPosition(end: BinlogPosition, gtidSet: string | null, preparedXa: readonly PreparedXa[], tsMs: number | null): void {
    const last = this.items.length > this.head ? this.items[this.items.length - 1] : undefined;
    if (last && last.kind === 'position') {
      last.end = end;
      last.gtidSet = gtidSet;
      last.preparedXa = preparedXa;
      if (tsMs !== null) last.tsMs = tsMs;
      this.flush();
      return;
    }
    this.push({ kind: 'position', end, gtidSet, tsMs: tsMs ?? Date.now(), preparedXa });
  }

  /** The next item in binlog order; rejects with a TidemarkError once failed (after the queued items) or closed. */
  next(): Promise<RawItem> {
    if (this.head < this.items.length) return Promise.resolve(this.take());
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new TidemarkError('Cancelled', 'binlog reader closed'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  get failed(): boolean {
    return this.failure !== null;
  }

  /** Ends the queue with an error, delivered once the items before it are taken. The first failure wins. */
  fail(e: TidemarkError): void {
    if (this.failure) return;
    this.failure = e;
    this.flush();
  }

  /** Ends the queue: a pending or later next() rejects with Cancelled. */
  close(): void {
    this.closed = true;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.reject(new TidemarkError('Cancelled', 'binlog reader closed'));
    }
  }

  private flush(): void {
    if (!this.waiter) return;
    if (this.head < this.items.length) {
      const item = this.take();
      const w = this.waiter;
      this.waiter = null;
      w.resolve(item);
    } else if (this.failure) {
      const w = this.waiter;
      this.waiter = null;
      w.reject(this.failure);
    }
  }

  private take(): RawItem {
    const item = this.items[this.head]!;
    this.items[this.head++] = undefined as never;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    if (this.paused && this.items.length - this.head <= this.highWaterMark / 2) {
      this.paused = false;
      this.setPaused(false);
    }
    return item;
  }
}
