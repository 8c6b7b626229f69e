/**
 * core/pipeline/transform: Flink CDC 3.x transform rules — parser, types, functions by family
 * (functions/), the typed evaluator, and projection/filter compilation.
 */
export { compileTransform, compileProjection, compileFilter, parseProjection, bindRule, transformColumnTypes, type CompiledTransform, type CompiledProjection, type CompiledFilter, type BoundTransform, type SourceColumn, type TransformOptions, type ProjectionItem } from './projection';
export { fromCanonical, toCanonical } from './canonical';
export { METADATA_COLUMNS, DEFAULT_CONTEXT, compileTyped, type Row, type RowMeta, type EvalContext, type Typed } from './evaluator';
export { parseExpression, referencedNames, tokenize, ExprParser, unsupported, type Expr, type BinaryOp, type Literal } from './parser';
export { formatType, parseType, flinkTypeOfColumn, icebergTypeOf, type FlinkType, type V } from './types';
export { FUNCTIONS } from './functions';
export * as values from './values';
export type { V as Value } from './types';
