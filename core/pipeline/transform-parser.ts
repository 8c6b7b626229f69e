/** Moved to transform/parser.ts; kept for importers outside this folder (sink-schema.ts). */
export type { Expr, BinaryOp, Literal } from './transform/parser';
export { parseExpression, referencedNames } from './transform/parser';
