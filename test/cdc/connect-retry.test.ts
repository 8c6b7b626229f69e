/**
 * connect.max-retries against a private MariaDB behind a front that drops the first connections
 * it accepts (a server that is restarting, say): the source opens its connections with that many
 * attempts, as Flink CDC does, and never retries wrong credentials.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMySqlSource } from '../../core/cdc';
import { isTidemarkError } from '../../core/errors';
import { readBinlogEnd } from '../../core/pipeline/runner/source';
import { sourceConfig, usePrivateMariaDb } from './helpers';

interface Front {
  port: number;
  /** Connections accepted so far (dropped or passed on). */
  accepted: number;
  close(): Promise<void>;
}

/** Accepts on a free port; drops the first `drop` connections, pipes the rest to `targetPort`. */
async function startFront(targetPort: number, drop: number): Promise<Front> {
  const sockets = new Set<Socket>();
  const front = { port: 0, accepted: 0, close: async () => {} } as Front;
  const server: Server = createServer((client) => {
    front.accepted++;
    sockets.add(client);
    if (front.accepted <= drop) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  front.port = (server.address() as { port: number }).port;
  front.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  };
  return front;
}

describe('connect.max-retries', () => {
  const server = usePrivateMariaDb(['CREATE DATABASE app', 'CREATE TABLE app.t (id INT PRIMARY KEY)']);
  let front: Front | null = null;
  afterEach(async () => {
    await front?.close();
    front = null;
  });

  async function preflightThrough(drop: number, overrides: { connectMaxRetries?: number; password?: string }): Promise<{ error: unknown; attempts: number }> {
    front = await startFront(server.db.port, drop);
    const source = createMySqlSource(sourceConfig(server.db, { port: front.port, ...overrides }));
    let error: unknown = null;
    try {
      const report = await source.preflight();
      expect(report.server).toContain(String(front.port));
    } catch (e) {
      error = e;
    }
    return { error, attempts: front.accepted };
  }

  it('connects on the third attempt with 3 (the default)', async () => {
    const { error, attempts } = await preflightThrough(2, {});
    expect(error).toBe(null);
    expect(attempts).toBe(3);
  });

  it('gives up after 2 attempts with 2, naming them', async () => {
    const { error, attempts } = await preflightThrough(2, { connectMaxRetries: 2 });
    expect(attempts).toBe(2);
    expect(isTidemarkError(error) && error.code).toBe('SourceUnavailable');
    expect((error as Error).message).toMatch(/^preflight: .*127\.0\.0\.1:\d+.* \(2 attempts, connect\.max-retries 2\)$/);
  });

  it('tries once with 0, as Flink CDC', async () => {
    const { error, attempts } = await preflightThrough(1, { connectMaxRetries: 0 });
    expect(attempts).toBe(1);
    expect(isTidemarkError(error) && error.code).toBe('SourceUnavailable');
  });

  it('does not retry wrong credentials', async () => {
    const { error, attempts } = await preflightThrough(0, { connectMaxRetries: 3, password: 'wrong' });
    // One login, then one TLS probe that tells a wrong password from a server requiring TLS (both
    // answer 1045 to a plain login; core/cdc/connect.ts): no retry.
    expect(attempts).toBe(2);
    expect(isTidemarkError(error) && error.code).toBe('InvalidInput');
    expect((error as Error).message).toContain('wrong username or password');
  });

  it('applies to the pipeline\'s first connection too (reading the binlog end of a fresh run)', async () => {
    front = await startFront(server.db.port, 2);
    const end = await readBinlogEnd(sourceConfig(server.db, { port: front.port, connectMaxRetries: 3 }));
    expect(end.file).toMatch(/^binlog\.\d+$/);
    expect(front.accepted).toBe(3);
  });
});
