/**
 * The execArgv of the sync thread and the sink worker. Never the parent's: under the tsx CLI or
 * vitest its loader flags would route every module of the thread through hooks the thread
 * registers again itself (the boot .mjs files). `TIDEMARK_CPU_PROF_DIR=dir` writes a V8 CPU
 * profile of each thread into dir when it exits (Node refuses `--cpu-prof` in NODE_OPTIONS; the
 * main thread takes `node --cpu-prof --cpu-prof-dir=dir bin/tidemark …`).
 */
export function workerExecArgv(): string[] {
  const dir = process.env.TIDEMARK_CPU_PROF_DIR;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}
