/**
 * `npm run reliability`: the fault, fuzz and security figures in one report. Runs the crash
 * harnesses with TIDEMARK_CRASH_TRIALS (default 50) kill -9 trials each; the fuzzers for
 * TIDEMARK_FUZZ_MS per reader (default 20 s; TIDEMARK_FUZZ_MAX_INPUTS caps the inputs, default no
 * cap), every input in a worker thread under a TIDEMARK_FUZZ_INPUT_MS deadline (default 2 s), hangs
 * saved to reliability/results/hangs/; the source fault tests (server restart, purged binlog, bad
 * credentials, TCP proxy); the disk faults (a full and a read-only warehouse on a small tmpfs, under
 * lake commits and `tidemark sync`); the concurrency tests (the same pipeline twice, two pipelines
 * into one table, compaction racing a sync); the bad-input and security tests. Then writes
 * reliability/results/<date>.json and .md plus latest.*.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const FILES = [
  'test/fuzz/fuzz.test.ts',
  'test/fuzz/regressions.test.ts',
  'test/lake/crash.test.ts',
  'test/lake/compaction-race.test.ts',
  'test/lake/disk-faults.test.ts',
  'test/pipeline/disk-faults.test.ts',
  'test/pipeline/concurrency.test.ts',
  'test/pipeline/run-lock.test.ts',
  'test/pipeline/crash.test.ts',
  'test/cdc/faults.test.ts',
  'test/cdc/proxy-faults.test.ts',
  'test/security/hostile-names.test.ts',
  'test/lake/bad-input.test.ts',
  'test/app/http-server.test.ts',
  'test/app/sync-service.test.ts',
  'test/electron/main.test.ts',
  'test/bad-input/messages.test.ts',
];
const trials = process.env.TIDEMARK_CRASH_TRIALS ?? '50';
const fuzzMs = process.env.TIDEMARK_FUZZ_MS ?? '20000';
const fuzzInputMs = process.env.TIDEMARK_FUZZ_INPUT_MS ?? '2000';
const fuzzMaxInputs = process.env.TIDEMARK_FUZZ_MAX_INPUTS ?? '';
const hangDir = join(root, 'reliability', 'results', 'hangs');
const work = await mkdtemp(join(tmpdir(), 'tidemark-reliability-'));
const figuresFile = join(work, 'figures.jsonl');
const vitestJson = join(work, 'vitest.json');
const started = Date.now();
const run = spawnSync(
  process.execPath,
  [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--project', 'unit', ...FILES, '--reporter=default', '--reporter=json', `--outputFile.json=${vitestJson}`, '--testTimeout=3600000'],
  {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      TIDEMARK_CRASH_TRIALS: trials,
      TIDEMARK_FUZZ_MS: fuzzMs,
      TIDEMARK_FUZZ_INPUT_MS: fuzzInputMs,
      ...(fuzzMaxInputs ? { TIDEMARK_FUZZ_MAX_INPUTS: fuzzMaxInputs } : {}),
      TIDEMARK_FUZZ_HANG_DIR: hangDir,
      TIDEMARK_RELIABILITY_OUT: figuresFile,
    },
  },
);

interface JsonReport {
  numPassedTests: number;
  numFailedTests: number;
  testResults: { name: string; assertionResults: { fullName: string; status: string; duration?: number }[] }[];
}
const report = JSON.parse(await readFile(vitestJson, 'utf8').catch(() => '{"numPassedTests":0,"numFailedTests":0,"testResults":[]}')) as JsonReport;
const figures = (await readFile(figuresFile, 'utf8').catch(() => ''))
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Record<string, unknown>);
const at = new Date().toISOString();
const machine = { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.versions.node };
const hangs = figures.flatMap((f) => (Array.isArray(f.hangFiles) ? (f.hangFiles as string[]).map((file) => ({ target: String(f.name), file })) : []));
const result = { at, machine, crashTrials: Number(trials), fuzzMsPerReader: Number(fuzzMs), fuzzInputDeadlineMs: Number(fuzzInputMs), fuzzMaxInputs: fuzzMaxInputs ? Number(fuzzMaxInputs) : null, hangs, seconds: Math.round((Date.now() - started) / 1000), passed: report.numPassedTests, failed: report.numFailedTests, figures, tests: report.testResults };

const md = [
  `# Tidemark reliability — ${at}`,
  '',
  `Machine: ${machine.cpus} cores, ${machine.memoryGiB} GiB, Node ${machine.node}. Crash trials per harness: ${trials}. Fuzz time per reader: ${Number(fuzzMs) / 1000} s${fuzzMaxInputs ? ` (at most ${fuzzMaxInputs} inputs)` : ''}, deadline per input ${Number(fuzzInputMs) / 1000} s. Total ${result.seconds} s.`,
  '',
  `**${report.numPassedTests} passed, ${report.numFailedTests} failed.**`,
  '',
  '## Figures',
  '',
  '| measure | figures |',
  '| --- | --- |',
  ...figures.map((f) => `| ${String(f.name)} | ${Object.entries(f).filter(([k]) => k !== 'name').map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ')} |`),
  '',
  '## Hanging inputs',
  '',
  hangs.length === 0 ? 'None: every fuzz input finished within its deadline.' : hangs.map((h) => `- ${h.target}: \`${h.file.replace(`${root}/`, '')}\``).join('\n'),
  '',
  '## Tests',
  '',
  '| file | test | result | ms |',
  '| --- | --- | --- | --- |',
  ...report.testResults.flatMap((f) => f.assertionResults.map((a) => `| ${f.name.replace(`${root}/`, '')} | ${a.fullName.replace(/\|/g, '\\|')} | ${a.status} | ${Math.round(a.duration ?? 0)} |`)),
  '',
];
const dir = join(root, 'reliability', 'results');
await mkdir(dir, { recursive: true });
const stamp = at.slice(0, 19).replace(/:/g, '-');
for (const name of [stamp, 'latest']) {
  await writeFile(join(dir, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(join(dir, `${name}.md`), md.join('\n'));
}
console.log(`saved reliability/results/${stamp}.json and .md (and latest.*)`);
process.exitCode = run.status ?? 1;
