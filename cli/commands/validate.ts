import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { formatIssue, validatePipeline, type ValidationResult } from '../../core/pipeline';
import { toTidemarkError } from '../../core/errors';
import { parseCommandArgs, stringifyJson, type CliRunner, type CliIo } from '../command';

/** Reads a pipeline file; a missing file is NotFound naming the path (exit 3). */
export async function readPipelineFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const err = toTidemarkError(e);
    if (err.code === 'NotFound') err.message = `pipeline file not found: ${path}`;
    throw err;
  }
}

/**
 * Prints every error as `error[CODE]: file:LINE: key: message` and every warning as
 * `warning: …` (stderr). Returns the exit code for a failed validation: 2 when any error is
 * invalid input, 1 when all are Unsupported (e.g. a Paimon sink).
 */
export function reportIssues(fileName: string, result: ValidationResult, io: CliIo): number {
  for (const e of result.errors) io.err(`error[${e.code}]: ${formatIssue(fileName, e)}`);
  for (const w of result.warnings) io.err(`warning: ${formatIssue(fileName, w)}`);
  return result.errors.some((e) => e.code === 'InvalidInput') ? 2 : 1;
}

export async function validatePipelineFile(path: string, env: Record<string, string | undefined> = process.env): Promise<ValidationResult> {
  const text = await readPipelineFile(path);
  return validatePipeline(text, { fileName: path, env, baseDir: dirname(resolve(path)) });
}

export const validateCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('validate', argv, { json: { type: 'boolean' } }, { min: 1, max: 1, names: ['pipeline.yaml'] });
    const path = positionals[0]!;
    const result = await validatePipelineFile(path);
    if (values.json) {
      // The password is a secret even when it came from the environment: never print it.
      const safe = result.config ? { ...result.config, source: { ...result.config.source, password: '***' } } : null;
      io.out(stringifyJson({ config: safe, errors: result.errors, warnings: result.warnings }));
      return result.config ? 0 : result.errors.some((e) => e.code === 'InvalidInput') ? 2 : 1;
    }
    if (!result.config) return reportIssues(path, result, io);
    const c = result.config;
    const n = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
    io.out(
      `ok: ${n(c.routes.length, 'route')}, ${n(c.transforms.length, 'transform')}; ` +
        `${c.source.type} ${c.source.hostname}:${c.source.port} tables ${c.source.tables.text} → iceberg ${c.sink.catalogType === 'rest' ? `REST catalog ${c.sink.rest.uri ?? ''} warehouse ${JSON.stringify(c.sink.warehouse)}` : c.sink.warehouse}; ` +
        `schema.change.behavior ${c.pipeline.schemaChangeBehavior}, commit every ${c.pipeline.checkpointIntervalMs / 1000}s`,
    );
    for (const w of result.warnings) io.out(`warning: ${formatIssue(path, w)}`);
  },
};
