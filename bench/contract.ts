import { AllowedRoots } from '../core/app/file-server';
import { dispatchCall } from '../core/app/dispatch';
import { createHandlers } from '../core/app/handlers';
import { startBrowserServer } from '../core/app/http-server';
import { createHttpClient } from '../core/api';
import { createLocalStorage } from '../core/storage/node/index';

/** What one UI call costs over each transport (app.version: no engine work, transport only). */
export async function runContractBench(calls = 2000): Promise<Record<string, number | string>[]> {
  const storage = createLocalStorage();
  const roots = new AllowedRoots();
  const handlers = createHandlers({ storage, mode: 'browser', electronVersion: null, allowRoot: (p) => roots.add(p), initialWarehouse: null });
  const ctx = { emit: () => undefined };

  async function measure(label: string, call: () => Promise<unknown>) {
    for (let i = 0; i < 100; i++) await call(); // warm-up
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) await call();
    const ms = performance.now() - t0;
    return { transport: label, calls, totalMs: Math.round(ms), usPerCall: Math.round((ms * 1000) / calls), callsPerSec: Math.round(calls / (ms / 1000)) };
  }

  const direct = await measure('dispatch (in process, as Electron IPC handler)', () => dispatchCall(handlers, 'app.version', {}, ctx));
  const server = await startBrowserServer({ handlers, storage, roots, rendererDir: '/nonexistent' });
  try {
    const client = createHttpClient({ baseUrl: `http://127.0.0.1:${server.port}`, token: server.token });
    const http = await measure('HTTP (browser mode, loopback)', () => client.call('app.version', {}));
    return [direct, http];
  } finally {
    await server.close();
  }
}
