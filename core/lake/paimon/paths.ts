/** Path joining for storage-port paths ('/'-separated in Node and in the browser alike). */
export function joinPath(base: string, ...parts: string[]): string {
  let out = base;
  for (const p of parts) out = out.endsWith('/') ? out + p : `${out}/${p}`;
  return out;
}

/**
 * Escapes a partition value for a directory name the way Hive and Paimon do: the characters that
 * are unsafe in paths become %XX (upper-case hex).
 */
export function escapePartitionValue(value: string): string {
  let out = '';
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || c === 0x7f || '"#%\'*/:=?\\{[]^'.includes(ch)) out += `%${c.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}
