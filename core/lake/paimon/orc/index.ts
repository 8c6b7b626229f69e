/**
 * A minimal ORC reader for Paimon tables written with `manifest.format = orc` (manifest lists,
 * manifests, index manifests). Whole files are decoded into records, like decodeAvroRecords.
 *
 * Hand-written because npm has no maintained pure-JS ORC reader (checked: `orc` is an unrelated flow
 * library, `orc-js`, `orcjs`, `orc-reader`, `@apache/orc` do not exist), and the reader must run in
 * the renderer too, so native bindings and the Java / C++ readers are out. It covers what Paimon
 * manifests need, from the ORC Specification v1: the tail (PostScript, Footer, StripeFooter
 * protobufs), NONE / ZLIB / ZSTD compression (zstd through fzstd), byte, boolean and integer RLE v1 /
 * v2, and the BOOLEAN, BYTE, SHORT, INT, LONG, FLOAT, DOUBLE, STRING, CHAR, VARCHAR, BINARY, DATE,
 * DECIMAL, TIMESTAMP, STRUCT, LIST and MAP column types. No predicate push-down or column projection:
 * manifests are a few kilobytes. SNAPPY / LZO / LZ4 and UNION columns fail as Unsupported.
 */
import { TidemarkError } from '../../../errors';
import { maxStripeValues, readOrcColumn } from './columns';
import { OrcFormatError } from './errors';
import { OrcKind, readOrcTail, readStripe } from './tail';

export { isOrcMagic, readOrcTail, readStripe, OrcKind, ORC_KIND_NAMES, type OrcTail, type OrcType } from './tail';
export { maxStripeValues, readOrcColumn } from './columns';
export { OrcFormatError } from './errors';

/**
 * Decodes every row of an ORC file whose root type is a struct, as records by field name (values as
 * described in ./columns.ts). `file` names the file in errors: malformed input is DataInvalid, an
 * unsupported codec or type is Unsupported.
 */
export async function decodeOrcRecords(bytes: Uint8Array, file: string): Promise<Record<string, unknown>[]> {
  try {
    const tail = await readOrcTail(bytes, file);
    const root = tail.types[0]!;
    if (root.kind !== OrcKind.STRUCT) throw new OrcFormatError(`root type is kind ${root.kind}, expected a struct`);
    const rows: Record<string, unknown>[] = [];
    const declared = tail.stripes.reduce((sum, s) => sum + s.numberOfRows, 0);
    if (declared !== tail.numberOfRows) throw new OrcFormatError(`footer says ${tail.numberOfRows} rows, its stripes say ${declared}`);
    for (let i = 0; i < tail.stripes.length; i++) {
      const stripe = await readStripe(bytes, tail, i);
      const n = tail.stripes[i]!.numberOfRows;
      // Row counts bound only by the root struct's own (absent) streams: cap them like any column.
      const ctx = { types: tail.types, stripe, where: `stripe ${i}`, file, maxValues: maxStripeValues(stripe, 0) };
      for (const r of readOrcColumn(ctx, 0, n)) {
        // A null top-level row cannot come from Paimon (or any row-oriented writer).
        if (r === null) throw new OrcFormatError(`stripe ${i}: a row is null`);
        rows.push(r as Record<string, unknown>);
      }
    }
    if (rows.length !== tail.numberOfRows) throw new OrcFormatError(`footer says ${tail.numberOfRows} rows, the stripes hold ${rows.length}`);
    return rows;
  } catch (e) {
    if (e instanceof TidemarkError) throw e;
    // RangeError (a DataView or typed-array bound) and friends from hostile bytes are data errors too.
    const detail = e instanceof OrcFormatError ? e.message : `${e instanceof Error ? e.name : 'error'}: ${e instanceof Error ? e.message : String(e)}`;
    throw new TidemarkError('DataInvalid', `${file}: expected an ORC file: ${detail}`, { path: file }, e);
  }
}
