/**
 * A fixed workload timed before the benchmarks, so that runs on different machines can be told
 * apart: two machines described alike ("2 cores (AMD EPYC), 24 GiB") differed ~3× at the
 * allocation-heavy work of the CDC benches (2026-11-28: raw zongji 556k against 158k rows/s).
 * Run in a child process so that its heap and its freed memory do not touch the benches' RSS figures.
 */
import { execFileSync } from 'node:child_process';

export interface Calibration {
  /** 1e8 iterations of an integer loop: plain compute. */
  computeMs: number;
  /** 3M short-lived small objects with a string each: allocation and young-generation GC. */
  allocationMs: number;
  /** First write to 256 MiB of fresh memory: the cost of page faults on this machine. */
  freshMemoryMsPerMiB: number;
}

const SCRIPT = `
const now = () => performance.now();
let t = now(); let s = 0; for (let i = 0; i < 1e8; i++) s += i % 7;
const computeMs = now() - t;
t = now(); let a = []; for (let i = 0; i < 3e6; i++) { a.push({ x: i, y: 's' + i }); if (a.length > 1e5) a = []; }
const allocationMs = now() - t;
t = now(); const b = Buffer.allocUnsafeSlow(256 * 2 ** 20); b.fill(s & 1);
const freshMemoryMsPerMiB = (now() - t) / 256;
console.log(JSON.stringify({ computeMs, allocationMs, freshMemoryMsPerMiB, keep: a.length + b[7] }));
`;

export function calibrate(): Calibration {
  const out = JSON.parse(execFileSync(process.execPath, ['-e', SCRIPT], { encoding: 'utf8' })) as Calibration;
  const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
  return { computeMs: round(out.computeMs, 0), allocationMs: round(out.allocationMs, 0), freshMemoryMsPerMiB: round(out.freshMemoryMsPerMiB, 2) };
}
