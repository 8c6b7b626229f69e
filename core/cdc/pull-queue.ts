/**
 * A first-in first-out queue between a producer driven by events (a socket, zongji) and a consumer
 * that pulls with next(): the items in order, then the failure or the end. Holds at most one
 * waiting consumer. Shared by the binlog reader's item queue (binlog-queue.ts) and the snapshot's
 * chunk windows (snapshot-reader.ts), which add their own backpressure through `onTake`.
 */
export class PullQueue<T> {
  private readonly items: T[] = [];
  private head = 0;
  private waiter: { resolve: (item: T) => void; reject: (e: unknown) => void } | null = null;
  private failure: { error: unknown } | null = null;
  private closed = false;

  /**
   * @param closedError the error next() rejects with once closed.
   * @param onTake called after each item is taken, with the number still queued.
   */
  constructor(
    private readonly closedError: () => unknown,
    private readonly onTake: (queued: number) => void = () => {},
  ) {}

  /** Items queued and not yet taken. */
  get size(): number {
    return this.items.length - this.head;
  }

  get failed(): boolean {
    return this.failure !== null;
  }

  push(item: T): void {
    this.items.push(item);
    this.flush();
  }

  /** The last queued item not yet taken (e.g. to merge into it), if any. */
  last(): T | undefined {
    return this.items.length > this.head ? this.items[this.items.length - 1] : undefined;
  }

  /** The next item; rejects once failed (after the queued items) or closed. */
  next(): Promise<T> {
    if (this.head < this.items.length) return Promise.resolve(this.take());
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.closed) return Promise.reject(this.closedError());
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Ends the queue with an error, delivered once the items before it are taken. The first failure wins. */
  fail(error: unknown): void {
    if (this.failure) return;
    this.failure = { error };
    this.flush();
  }

  /** Ends the queue: a pending or later next() rejects with closedError. */
  close(): void {
    this.closed = true;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.reject(this.closedError());
    }
  }

  private flush(): void {
    if (!this.waiter) return;
    if (this.head < this.items.length) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve(this.take());
    } else if (this.failure) {
      const w = this.waiter;
      this.waiter = null;
      w.reject(this.failure.error);
    }
  }

  private take(): T {
    const item = this.items[this.head]!;
    this.items[this.head++] = undefined as never;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    this.onTake(this.items.length - this.head);
    return item;
  }
}
