/**
 * `npm run bench`: runs every registered benchmark (or those named: `npm run bench -- query`),
 * prints one table per benchmark, and writes `bench/results/<date>.json` and `<date>.md` (plus
 * `latest.json` / `latest.md`) with the machine it ran on. Each benchmark's rows put a measure
 * beside its limit or reference measured in the same run.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { calibrate } from './calibrate';
import { BENCHES } from './registry';

const selected = process.argv.slice(2);
const unknown = selected.filter((s) => !BENCHES.some((b) => b.name === s));
if (unknown.length) {
  console.error(`error[InvalidInput]: unknown benchmark ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`);
  process.exit(2);
}
const calibration = calibrate();
const machine = { node: process.versions.node, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), calibration };
const results: Record<string, unknown> = { machine, at: new Date().toISOString() };
const md: string[] = [
  `# Tidemark benchmarks — ${results.at as string}`,
  '',
  `Machine: ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}.`,
  `Calibration (bench/calibrate.ts, the same code on every machine): compute ${calibration.computeMs} ms, allocation ${calibration.allocationMs} ms, fresh memory ${calibration.freshMemoryMsPerMiB} ms/MiB.`,
  '',
];
console.log(md.slice(2, 4).join('\n'));

function toMarkdown(rows: Record<string, unknown>[]): string[] {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => String(v ?? '').replace(/\|/g, '\\|');
  return [`| ${cols.join(' | ')} |`, `| ${cols.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${cols.map((c) => cell(r[c])).join(' | ')} |`)];
}

for (const bench of BENCHES) {
  if (selected.length && !selected.includes(bench.name)) continue;
  console.log(`\n## ${bench.name} — ${bench.description}`);
  const started = performance.now();
  try {
    const rows = await bench.run();
    console.table(rows);
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    results[bench.name] = { rows, seconds };
    md.push(`## ${bench.name}`, '', bench.description, '', ...toMarkdown(rows), '', `(${seconds} s)`, '');
  } catch (e) {
    // One failing benchmark must not hide the others' figures; the run still exits non-zero.
    console.error(`error: benchmark ${bench.name} failed: ${(e as Error).message}`);
    results[bench.name] = { error: (e as Error).message };
    md.push(`## ${bench.name}`, '', `FAILED: ${(e as Error).message}`, '');
    process.exitCode = 1;
  }
}
const dir = resolve(import.meta.dirname, 'results');
await mkdir(dir, { recursive: true });
const stamp = (results.at as string).slice(0, 19).replace(/:/g, '-');
const json = `${JSON.stringify(results, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`;
for (const name of [`${stamp}`, 'latest']) {
  await writeFile(resolve(dir, `${name}.json`), json);
  await writeFile(resolve(dir, `${name}.md`), `${md.join('\n')}\n`);
}
console.log(`\nsaved bench/results/${stamp}.json and .md (and latest.*)`);
