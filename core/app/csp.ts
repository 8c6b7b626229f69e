/**
 * The renderer's Content-Security-Policy, the same in Electron and browser mode: only our own
 * origin; wasm (DuckDB-wasm, parquet-wasm) needs 'wasm-unsafe-eval', its worker a blob: or self URL.
 */
export const RENDERER_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');
