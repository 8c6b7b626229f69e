import { dirname, resolve } from 'node:path';
import { formatPlan, loadPipelineConfig, planPipeline } from '../../core/pipeline';
import { parseCommandArgs, stringifyJson, type CliRunner } from '../command';
import { readPipelineFile } from './validate';

export const planCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('plan', argv, { json: { type: 'boolean' } }, { min: 1, max: 1, names: ['pipeline.yaml'] });
    const path = positionals[0]!;
    const { config, warnings } = loadPipelineConfig(await readPipelineFile(path), { fileName: path, env: process.env, baseDir: dirname(resolve(path)) });
    for (const w of warnings) io.err(`warning: ${path}:${w.line}: ${w.path}: ${w.message}`);
    const plan = await planPipeline(config);
    io.out(values.json ? stringifyJson(plan) : formatPlan(plan));
  },
};
