/**
 * The Parquet codecs Tidemark writes, by Java Iceberg's names for `write.parquet.compression-codec`
 * (case-insensitive). Apart from parquet-write.ts (which maps them to parquet-wasm's codecs) so that
 * the pipeline's validation can check a value without loading the encoder.
 */
export const PARQUET_CODEC_NAMES = ['zstd', 'snappy', 'gzip', 'lz4', 'brotli', 'uncompressed'] as const;
export type ParquetCodecName = (typeof PARQUET_CODEC_NAMES)[number];
/** Iceberg's table property for the Parquet codec of the files it writes (default zstd, as Java's since 1.4). */
export const PROPERTY_PARQUET_CODEC = 'write.parquet.compression-codec';

/** The codec `text` names, or null when it names none Tidemark writes (lzo, or not a codec). */
export function parquetCodecName(text: string): ParquetCodecName | null {
  const name = text.trim().toLowerCase();
  return (PARQUET_CODEC_NAMES as readonly string[]).includes(name) ? (name as ParquetCodecName) : null;
}
