/** Moved to transform/evaluator.ts; kept for importers outside this folder (run.ts). */
export type { Row, RowMeta } from './transform/evaluator';
export { METADATA_COLUMNS } from './transform/evaluator';
