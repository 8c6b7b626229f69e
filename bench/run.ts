/**
 * `npm run bench`: runs every registered benchmark, prints one table per benchmark and saves all
 * results as JSON in bench/results/latest.json. Select some with `npm run bench -- name1 name2`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BENCHES } from './registry';

const selected = process.argv.slice(2);
const unknown = selected.filter((s) => !BENCHES.some((b) => b.name === s));
if (unknown.length) {
  console.error(`error[InvalidInput]: unknown benchmark ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`);
  process.exit(2);
}
const results: Record<string, unknown> = { machine: { node: process.versions.node, cpus: (await import('node:os')).cpus().length }, at: new Date().toISOString() };
for (const bench of BENCHES) {
  if (selected.length && !selected.includes(bench.name)) continue;
  console.log(`\n## ${bench.name} — ${bench.description}`);
  const started = performance.now();
  const rows = await bench.run();
  console.table(rows);
  results[bench.name] = { rows, seconds: (performance.now() - started) / 1000 };
}
const out = resolve(import.meta.dirname, 'results/latest.json');
await mkdir(resolve(import.meta.dirname, 'results'), { recursive: true });
await writeFile(out, `${JSON.stringify(results, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
console.log(`\nsaved ${out}`);
