/**
 * Builds change-event rows from the binlog reader's flat row images (binlog-rows.ts): one function
 * per table schema and column list, generated as a single object literal whose fields are the
 * converted values. Against a loop of keyed stores into a copied template this is ~5× faster
 * (measured, 5 columns: 11 against 52 ns a row) and gives every row one shape with all its fields
 * in the object itself (no out-of-line property store, one heap object less per row).
 */
import { stringLiteral } from './binlog-rows';
import type { ColumnCodec } from './type-map';
import type { Row } from './types';

/** Row image starting at `values[at]` (one value per column, in the builder's column order) as a Row. */
export type RowBuilder = (values: unknown[], at: number) => Row;
/** A row object as zongji delivers it (`{name: value}`) as a Row. */
export type ObjectRowBuilder = (row: Record<string, unknown>) => Row;

/**
 * `codecs[i]` converts the values of column `names[i]`: null and undefined become null, a value of
 * the codec's passthrough type is kept, anything else goes through `convert` (which may throw
 * DataInvalid naming the column). Names enter the code only as JSON string literals.
 */
export function compileRowBuilder(names: readonly string[], codecs: readonly ColumnCodec[]): RowBuilder {
  return compile(names, codecs, 'v, at', (_, i) => `v[at + ${i}]`) as RowBuilder;
}

/**
 * The same, reading a zongji row object (rows decoded at their transaction's commit: no flat
 * copy in between). A named load per column, as binlog-rows.ts compileCapture.
 */
export function compileObjectRowBuilder(names: readonly string[], codecs: readonly ColumnCodec[]): ObjectRowBuilder {
  return compile(names, codecs, 'r', (name) => `r[${stringLiteral(name)}]`) as ObjectRowBuilder;
}

function compile(names: readonly string[], codecs: readonly ColumnCodec[], args: string, read: (name: string, i: number) => string): RowBuilder | ObjectRowBuilder {
  const reads = names.map((n, i) => `const x${i} = ${read(n, i)};`);
  const fields = names.map((name, i) => {
    const c = codecs[i]!;
    const converted = c.passthrough === null ? `k${i}(x${i})` : `typeof x${i} === ${stringLiteral(c.passthrough)} ? x${i} : k${i}(x${i})`;
    // A literal's plain `__proto__:` key sets the prototype; the computed form defines a field.
    const key = name === '__proto__' ? `[${stringLiteral(name)}]` : stringLiteral(name);
    return `${key}: x${i} == null ? null : ${converted}`;
  });
  const params = names.map((_, i) => `k${i}`);
  const body = `return function buildRow(${args}) {\n${reads.join('\n')}\nreturn {\n${fields.join(',\n')}\n};\n};`;
  const factory = new Function(...params, body) as (...converters: ColumnCodec['convert'][]) => RowBuilder | ObjectRowBuilder;
  return factory(...codecs.map((c) => c.convert));
}
