import { dirname, resolve } from 'node:path';
import { formatProgressLine, loadPipelineConfig, runPipelineInThread } from '../../core/pipeline';
import { parseCommandArgs, type CliRunner } from '../command';
import { readPipelineFile } from './validate';

export const syncCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('sync', argv, { 'until-caught-up': { type: 'boolean' } }, { min: 1, max: 1, names: ['pipeline.yaml'] });
    const path = positionals[0]!;
    const { config, warnings } = loadPipelineConfig(await readPipelineFile(path), { fileName: path, env: process.env, baseDir: dirname(resolve(path)) });
    for (const w of warnings) io.err(`warning: ${path}:${w.line}: ${w.path}: ${w.message}`);
    // SIGINT / SIGTERM: stop reading, commit what is buffered, exit 0.
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      // In the sync thread, as the desktop app runs it (pipeline-thread.ts).
      const result = await runPipelineInThread({
        config,
        untilCaughtUp: values['until-caught-up'] ?? false,
        signal: abort.signal,
        onEvent: (e) => {
          if (e.type === 'sync.progress') io.err(formatProgressLine(e.payload));
          else if (e.type === 'sync.warning') io.err(`warning: ${e.payload.message}`);
          else if (e.type === 'sync.schema-change') for (const n of e.payload.notes) io.err(`schema change at ${e.payload.position}: ${n}`);
        },
      });
      io.err(`stopped after ${result.commits} commits at ${result.progress.committedPosition ?? 'the start'}`);
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};
