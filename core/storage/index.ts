import { TidemarkError } from '../errors';

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
  /**
   * Names of the sub-folders of a directory, sorted, found from the keys below it; a missing
   * directory has none. Optional (see `listSubfolders`): object stores have it because a delimited
   * listing's common prefixes can leave out a folder that holds only folders (s3rver 3.7 does).
   */
  listFolders?(path: string): Promise<string[]>;
}

/**
 * Several ranges of one file: the storage's `readRanges` where it has one (S3: parallel GETs; HTTP:
 * one `/fs/ranges` call), else each range with `readRange`, all at once.
 */
export function readRangesOf(storage: StoragePort, path: string, ranges: ByteRange[]): Promise<Uint8Array[]> {
  if (storage.readRanges) return storage.readRanges(path, ranges);
  return Promise.all(ranges.map((r) => storage.readRange(path, r.offset, r.length)));
}

/**
 * The sub-folders of `path`, sorted by name: `listFolders` where the storage has it, else the
 * directories of `list` (which throws NotFound for a missing directory). What table discovery
 * walks, so a namespace holding only table folders is found on every store.
 */
export async function listSubfolders(storage: StoragePort, path: string): Promise<string[]> {
  if (storage.listFolders) return storage.listFolders(path);
  return (await storage.list(path)).filter((e) => e.kind === 'directory').map((e) => e.name);
}

/** One object (file) found by `listRecursive`: its full storage path, size in bytes and last modification. */
export interface ObjectEntry {
  path: string;
  size: number;
  /** Last modification, ms since the epoch (S3: the listing's LastModified; 0 when a store gives none). */
  mtimeMs: number;
}

/**
 * A streaming writer for one large file (`WritableStorage.createWriter`). Bytes are published only
 * by `close()`: on an object store that is one PUT below the multipart threshold, else the
 * completion of a multipart upload, so a reader never sees a half-written object. `abort()` (or a
 * failed `write`/`close`, which aborts by itself) leaves nothing behind.
 */
export interface ObjectWriter {
  write(chunk: Uint8Array): Promise<void>;
  /** Publishes the file; returns its size in bytes. */
  close(): Promise<number>;
  abort(): Promise<void>;
}

/**
 * The writable storage port, one interface for the local file system and object stores (Node only:
 * `core/storage/node`, `core/storage/s3`). Paths are what the read port takes.
 */
export interface WritableStorage extends StoragePort {
  /** Names the store in error messages, e.g. `local file system` or `S3 http://127.0.0.1:9000`; never a secret. */
  readonly storeName: string;
  /** Creates or replaces a whole file (parent folders are created as needed). */
  writeFile(path: string, bytes: Uint8Array | string): Promise<void>;
  /**
   * Creates a file only if nothing exists at `path`: true when this call created it, false when it
   * already existed. On S3 this is a PUT with `If-None-Match: *`, which only some stores honour:
   * check `conditionalPutSupported` before relying on it (see `requireConditionalPut`).
   */
  putIfAbsent(path: string, bytes: Uint8Array | string): Promise<boolean>;
  /** Deletes a file; a missing file is not an error. */
  delete(path: string): Promise<void>;
  /** Every file below `path` (at any depth), sorted by path. A missing folder lists as empty. */
  listRecursive(path: string): Promise<ObjectEntry[]>;
  /** A streaming writer for a large file at `path` (multipart upload on object stores). */
  createWriter(path: string): ObjectWriter;
  /**
   * Whether `putIfAbsent` really refuses to overwrite on the store holding `path` (on S3: probed
   * once per bucket by creating a probe object twice; the second PUT must fail with 412).
   */
  conditionalPutSupported(path: string): Promise<boolean>;
}

/**
 * Throws Unsupported naming the store when it does not honour conditional creates: a committer
 * calls this before publishing metadata with `putIfAbsent`, so two writers can never both commit.
 */
export async function requireConditionalPut(storage: WritableStorage, path: string): Promise<void> {
  if (await storage.conditionalPutSupported(path)) return;
  throw new TidemarkError(
    'Unsupported',
    `${storage.storeName} does not honour conditional PUT (If-None-Match: *) for ${path}: a second create of a probe object succeeded, so commits there could overwrite each other; use a store that supports conditional writes`,
    { path, store: storage.storeName },
  );
}

/**
 * A WritableStorage that sends each call to the store `at(path)` names for its path (local paths
 * and `s3://` ones to different stores, or each table to its own vended credentials).
 */
export function routeStorage(storeName: () => string, at: (path: string) => WritableStorage): WritableStorage {
  return {
    get storeName() {
      return storeName();
    },
    readFile: (p) => at(p).readFile(p),
    readRange: (p, o, l) => at(p).readRange(p, o, l),
    readRanges: (p, ranges) => readRangesOf(at(p), p, ranges),
    stat: (p) => at(p).stat(p),
    list: (p) => at(p).list(p),
    listFolders: (p) => listSubfolders(at(p), p),
    writeFile: (p, b) => at(p).writeFile(p, b),
    putIfAbsent: (p, b) => at(p).putIfAbsent(p, b),
    delete: (p) => at(p).delete(p),
    listRecursive: (p) => at(p).listRecursive(p),
    createWriter: (p) => at(p).createWriter(p),
    conditionalPutSupported: (p) => at(p).conditionalPutSupported(p),
  };
}

export { createHttpStorage, MAX_RANGES_PER_REQUEST, RANGE_LENGTHS_HEADER, STORAGE_ROUTE } from './http';
