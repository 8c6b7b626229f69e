/**
 * The storage port: the only way core/lake and core/query touch bytes. In Node it is the local
 * file system (`core/storage/node`, Node only, so it is not re-exported here); in the renderer it
 * is ranged reads served by the main process (HTTP Range in browser mode, the same route through a
 * custom protocol in Electron), so a large table is never copied whole into the renderer.
 */
export interface FileInfo {
  /** Size in bytes. */
  size: number;
  /** Last modification time, ms since the epoch. */
  mtimeMs: number;
}

export interface ByteRange {
  offset: number;
  length: number;
}

export interface DirEntry {
  name: string;
  kind: 'file' | 'directory';
}

export interface StoragePort {
  /** Reads a whole file. Throws TidemarkError NotFound naming the path when it is missing. */
  readFile(path: string): Promise<Uint8Array>;
  /** Reads `length` bytes at `offset` (fewer only at end of file). */
  readRange(path: string, offset: number, length: number): Promise<Uint8Array>;
  /**
   * Reads several ranges of one file (each `length` bytes at `offset`, fewer only at end of file),
   * in the order given, in one request where the storage is remote (HTTP: one `/fs/ranges` call
   * instead of one per range). Optional: where absent, callers read each range with readRange.
   */
  readRanges?(path: string, ranges: ByteRange[]): Promise<Uint8Array[]>;
  /** Size and mtime, or null when the path does not exist. */
  stat(path: string): Promise<FileInfo | null>;
  /** Entries of a directory, sorted by name. Throws NotFound when it is missing. */
  list(path: string): Promise<DirEntry[]>;
}

export { createHttpStorage, MAX_RANGES_PER_REQUEST, RANGE_LENGTHS_HEADER, STORAGE_ROUTE } from './http';
