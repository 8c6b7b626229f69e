/**
 * Path resolution: metadata written elsewhere stores the writer's locations (`s3a://bucket/t/data/x`,
 * `file:/abs/t/...`, `data/persistent/t/...`, `./t` vs `t/...`). We rebase every such path onto the
 * local table root by stripping the table location (or a data/metadata path property) as a prefix.
 * Pure string work (no I/O), so it runs in the renderer too.
 */

/** Strips the scheme and authority (`s3://bucket`, `file://`, `file:`), `./` and trailing slashes. */
export function normalizeLocation(location: string): string {
  let p = location.trim();
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/.exec(p);
  if (scheme && scheme[1]!.length > 1) {
    const rest = scheme[2]!;
    if (scheme[1]!.toLowerCase() === 'file') {
      // file:///abs, file:/abs (one slash, Hadoop style) and file://relative (PyIceberg) all occur.
      p = rest.startsWith('///') ? rest.slice(2) : rest.startsWith('//') ? rest.slice(2) : rest;
    } else {
      // Object stores: drop the bucket (authority), keep the key.
      p = rest.startsWith('//') ? rest.slice(2).replace(/^[^/]*/, '') : rest;
    }
  }
  p = p.replace(/\/{2,}/g, '/');
  while (p.startsWith('./')) p = p.slice(2);
  return p.replace(/\/+$/, '');
}

export function joinPath(root: string, rel: string): string {
  const r = rel.replace(/^\/+/, '');
  if (r === '') return root;
  return root.endsWith('/') ? root + r : `${root}/${r}`;
}

export interface PathContext {
  /** Local table root (what the user opened). */
  tableRoot: string;
  /** The `location` in the table metadata. */
  location: string;
  /** Table properties: write.data.path, write.object-storage.path, write.metadata.path. */
  properties?: Record<string, string>;
}

/**
 * Maps a path from metadata onto the local table root. Tries, in order: the table location, the
 * data-path properties (object-storage layouts put data under them), then the first `/metadata/` or
 * `/data/` segment. A path that matches none is returned joined to the root as written.
 */
export function resolveTablePath(ctx: PathContext, path: string): string {
  const p = normalizeLocation(path);
  const prefixes: [string, string][] = [[normalizeLocation(ctx.location), '']];
  const props = ctx.properties ?? {};
  for (const key of ['write.data.path', 'write.object-storage.path', 'write.folder-storage.path']) {
    if (props[key]) prefixes.push([normalizeLocation(props[key]), 'data']);
  }
  if (props['write.metadata.path']) prefixes.push([normalizeLocation(props['write.metadata.path']), 'metadata']);
  for (const [prefix, under] of prefixes) {
    if (prefix !== '' && (p === prefix || p.startsWith(`${prefix}/`))) {
      return joinPath(joinPath(ctx.tableRoot, under), p.slice(prefix.length));
    }
  }
  // Moved tables: keep the part from the last `metadata/` or `data/` folder (the last, because an
  // absolute location may itself contain a folder named data).
  const cut = Math.max(p.lastIndexOf('/metadata/'), p.lastIndexOf('/data/'));
  if (cut >= 0) return joinPath(ctx.tableRoot, p.slice(cut + 1));
  if (/^(metadata|data)\//.test(p)) return joinPath(ctx.tableRoot, p);
  return joinPath(ctx.tableRoot, p);
}
