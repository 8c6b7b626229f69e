/**
 * A TCP proxy on 127.0.0.1 that the tests control, to put faults between a client and the private
 * MariaDB: drop every connection, stall (hold bytes without closing), or slow (delay each chunk).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'stall' | 'slow';

export interface TcpProxy {
  port: number;
  /** Connections opened through the proxy so far. */
  readonly connections: number;
  setMode(mode: ProxyMode, delayMs?: number): void;
  /** Destroys every open connection (new ones are still accepted). */
  dropAll(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let mode: ProxyMode = 'pass';
  let delay = 0;
  let count = 0;
  const open = new Set<Socket>();
  const held: (() => void)[] = [];

  function pipe(from: Socket, to: Socket) {
    from.on('data', (chunk) => {
      const send = () => {
        if (!to.destroyed) to.write(chunk);
      };
      if (mode === 'stall') held.push(send);
      else if (mode === 'slow') setTimeout(send, delay);
      else send();
    });
  }

  const server: Server = createServer((client) => {
    count++;
    const upstream = connect(targetPort, targetHost);
    open.add(client);
    open.add(upstream);
    pipe(client, upstream);
    pipe(upstream, client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  const dropAll = () => {
    for (const s of open) s.destroy();
    open.clear();
  };
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    get connections() {
      return count;
    },
    setMode(next, delayMs = 0) {
      mode = next;
      delay = delayMs;
      if (next !== 'stall') for (const send of held.splice(0)) send();
    },
    dropAll,
    async close() {
      dropAll();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
