/**
 * Builds change-event rows from zongji's row objects: one function per table schema and column
 * list, generated as a single object literal whose fields are the converted values. Against a loop
 * of keyed stores into a copied template this is several times faster (docs/perf-notes.md) and
 * gives every row one shape with all its fields in the object itself (no out-of-line property
 * store, one heap object less per row). A named load per column, because keyed loads by varying
 * names were several times slower.
 */
import { stringLiteral } from './binlog/rows';
import type { ColumnCodec } from './schema/column-codec';
import type { Row } from './types';

/** A row object as zongji delivers it (`{name: value}`) as a Row. */
export type ObjectRowBuilder = (row: Record<string, unknown>) => Row;

/**
 * `codecs[i]` converts the values of column `names[i]`: null and undefined become null, a value of
 * the codec's passthrough type is kept, anything else goes through `convert` (which may throw
 * DataInvalid naming the column). Names enter the code only as JSON string literals.
 */
export function compileObjectRowBuilder(names: readonly string[], codecs: readonly ColumnCodec[]): ObjectRowBuilder {
  const reads = names.map((n, i) => `const x${i} = r[${stringLiteral(n)}];`);
  const fields = names.map((name, i) => {
    const c = codecs[i]!;
    const converted = c.passthrough === null ? `k${i}(x${i})` : `typeof x${i} === ${stringLiteral(c.passthrough)} ? x${i} : k${i}(x${i})`;
    // A literal's plain `__proto__:` key sets the prototype; the computed form defines a field.
    const key = name === '__proto__' ? `[${stringLiteral(name)}]` : stringLiteral(name);
    return `${key}: x${i} == null ? null : ${converted}`;
  });
  const params = names.map((_, i) => `k${i}`);
  const body = `return function buildRow(r) {\n${reads.join('\n')}\nreturn {\n${fields.join(',\n')}\n};\n};`;
  const factory = new Function(...params, body) as (...converters: ColumnCodec['convert'][]) => ObjectRowBuilder;
  return factory(...codecs.map((c) => c.convert));
}
