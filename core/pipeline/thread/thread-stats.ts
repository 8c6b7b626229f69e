import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/**
 * With `TIDEMARK_THREAD_STATS=<path>` set, a sync-process thread writes how busy its event loop has
 * been since it started to `<path>.<name>` (one JSON object, rewritten at each call): the
 * sync-snapshot bench reads them to say which thread limited a sync. Unset, nothing is written.
 * Event-loop utilization counts synchronous work (decoding, wasm encoding) as active time.
 */
export function writeThreadStats(name: string): void {
  const path = process.env.TIDEMARK_THREAD_STATS;
  if (!path) return;
  const { active, idle } = performance.eventLoopUtilization();
  writeFileSync(`${path}.${name}`, JSON.stringify({ thread: name, activeMs: Math.round(active), idleMs: Math.round(idle) }));
}
