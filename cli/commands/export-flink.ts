import { ANY_ENV, exportFlinkYaml } from '../../core/pipeline';
import { parseCommandArgs, type CliRunner } from '../command';
import { readPipelineFile, reportIssues, validatePipelineFile } from './validate';

export const exportFlinkCommand: CliRunner = {
  async run(argv, io) {
    const { positionals } = parseCommandArgs('export-flink', argv, {}, { min: 1, max: 1, names: ['pipeline.yaml'] });
    const path = positionals[0]!;
    // Validate first so errors print one per line, exactly as `tidemark validate` shows them.
    // `${env:NAME}` references are exported as written, so they need not be set here.
    const result = await validatePipelineFile(path, ANY_ENV);
    if (!result.config) return reportIssues(path, result, io);
    io.out(exportFlinkYaml(await readPipelineFile(path), path));
  },
};
