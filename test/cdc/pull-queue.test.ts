import { describe, expect, it } from 'vitest';
import { PullQueue } from '../../core/cdc/pull-queue';

describe('PullQueue', () => {
  it('hands items out in order, to a waiting consumer at once, and reports what is left after each take', async () => {
    const left: number[] = [];
    const q = new PullQueue<number>(() => new Error('closed'), (n) => left.push(n));
    const waiting = q.next();
    q.push(1);
    expect(await waiting).toBe(1);
    q.push(2);
    q.push(3);
    expect(q.size).toBe(2);
    expect(q.last()).toBe(3);
    expect(await q.next()).toBe(2);
    expect(await q.next()).toBe(3);
    expect(q.last()).toBeUndefined();
    expect(left).toEqual([0, 1, 0]);
  });

  it('delivers a failure after the items queued before it; the first failure wins', async () => {
    const q = new PullQueue<string>(() => new Error('closed'));
    q.push('a');
    q.fail(new Error('first'));
    q.fail(new Error('second'));
    expect(q.failed).toBe(true);
    expect(await q.next()).toBe('a');
    await expect(q.next()).rejects.toThrow('first');
    const waiting = new PullQueue<string>(() => new Error('closed'));
    const pending = waiting.next();
    waiting.fail(new Error('while waiting'));
    await expect(pending).rejects.toThrow('while waiting');
  });

  it('close rejects a waiting and every later next() with the closed error, once the queued items are taken', async () => {
    const q = new PullQueue<number>(() => new Error('closed'));
    const pending = q.next();
    q.close();
    await expect(pending).rejects.toThrow('closed');
    const r = new PullQueue<number>(() => new Error('closed'));
    r.push(7);
    r.close();
    expect(await r.next()).toBe(7);
    await expect(r.next()).rejects.toThrow('closed');
  });

  it('keeps its storage bounded while a long run of items passes through', async () => {
    const q = new PullQueue<number>(() => new Error('closed'));
    let sum = 0;
    for (let i = 0; i < 20_000; i++) {
      q.push(i);
      q.push(i);
      sum += (await q.next()) - (await q.next());
    }
    expect(sum).toBe(0);
    expect(q.size).toBe(0);
    expect((q as unknown as { items: unknown[] }).items.length).toBe(0);
  });
});
