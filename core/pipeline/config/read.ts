import { isMap, isScalar, isSeq, type LineCounter, type Node, type YAMLMap } from 'yaml';
import type { ErrorCode } from '../../errors';
import type { ConfigIssue } from './types';
import type { KeySpec } from './keys';
import { TIDEMARK_PREFIX } from './keys';
import { parseBool, parseDuration, parseInteger, resolveEnvRefs, splitList } from './values';
import { unknownKeyMessage } from './suggest';

/** Collects errors and warnings with their YAML line, in document order. */
export class Issues {
  readonly errors: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];
  constructor(private readonly lines: LineCounter) {}

  lineOf(node: Node | null | undefined): number {
    const offset = node?.range?.[0];
    return offset === undefined ? 1 : this.lines.linePos(offset).line;
  }
  error(line: number, path: string, message: string, code: ErrorCode = 'InvalidInput'): void {
    this.errors.push({ code, line, path, message });
  }
  warn(line: number, path: string, message: string): void {
    this.warnings.push({ code: 'InvalidInput', line, path, message });
  }
}

export type OptionValue = string | number | boolean | string[];

export interface ReadOption {
  value: OptionValue;
  /** Line of the key. */
  line: number;
}

/** One YAML block (a map of options) read against its key catalog. */
export interface Block {
  path: string;
  line: number;
  values: Map<string, ReadOption>;
  /** Free-form `prefix.*` keys: prefix → (suffix → string value). */
  prefixed: Map<string, Record<string, string>>;
  /** Keys present, in document order (including prefixed and skipped ones). */
  keys: string[];
  /** Line of every key present. */
  lines: Map<string, number>;
}

export interface ReadContext {
  issues: Issues;
  env: Record<string, string | undefined>;
}

function scalarText(node: Node): string | null {
  if (!isScalar(node)) return null;
  const v = node.value;
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? v : String(v);
}

/**
 * Reads a map of options. Unknown keys are errors with the nearest known key; values are checked
 * against their kind; `${env:NAME}` is resolved in strings. Keys listed in `skip` are left to the
 * caller (e.g. `user-defined-function`, whose value is a list of maps).
 */
export function readBlock(
  node: unknown,
  path: string,
  line: number,
  specs: KeySpec[],
  prefixes: string[],
  ctx: ReadContext,
  skip: string[] = [],
): Block {
  const block: Block = { path, line, values: new Map(), prefixed: new Map(), keys: [], lines: new Map() };
  if (!isMap(node)) {
    ctx.issues.error(line, path, `expected a map of options, found ${describe(node)}`);
    return block;
  }
  for (const pair of (node as YAMLMap).items) {
    const keyNode = pair.key as Node;
    const key = scalarText(keyNode);
    const keyLine = ctx.issues.lineOf(keyNode);
    if (key === null) {
      ctx.issues.error(keyLine, path, 'expected a plain option name as key');
      continue;
    }
    block.keys.push(key);
    block.lines.set(key, keyLine);
    if (skip.includes(key)) continue;
    const keyPath = `${path}.${key}`;
    const spec = specs.find((s) => s.key === key);
    const prefix = spec ? undefined : prefixes.find((p) => key.startsWith(p) && key.length > p.length);
    if (!spec && !prefix) {
      const candidates = key.startsWith(TIDEMARK_PREFIX) ? specs.filter((s) => s.effect === 'tidemark') : specs;
      ctx.issues.error(keyLine, keyPath, unknownKeyMessage(key, [...candidates.map((s) => s.key), ...prefixes.map((p) => `${p}*`)]));
      continue;
    }
    const valueNode = pair.value as Node | null;
    let text: string | null = null;
    let list: string[] | null = null;
    if (valueNode && isSeq(valueNode) && spec?.kind === 'list') {
      list = [];
      for (const item of valueNode.items) {
        const t = scalarText(item as Node);
        if (t === null) ctx.issues.error(ctx.issues.lineOf(item as Node), keyPath, 'expected a list of plain values');
        else list.push(t.trim());
      }
    } else if (valueNode && (isMap(valueNode) || isSeq(valueNode))) {
      ctx.issues.error(keyLine, keyPath, `expected a single value, found ${describe(valueNode)}`);
      continue;
    } else {
      text = valueNode ? scalarText(valueNode) : null;
      if (text === null) {
        ctx.issues.error(keyLine, keyPath, 'expected a value, found nothing');
        continue;
      }
    }
    if (text !== null && (spec?.kind === 'string' || prefix)) {
      const resolved = resolveEnvRefs(text, ctx.env);
      for (const name of resolved.missing) {
        ctx.issues.error(keyLine, keyPath, `environment variable ${name} is not set (referenced as \${env:${name}})`);
      }
      text = resolved.value;
    }
    if (prefix) {
      const map = block.prefixed.get(prefix) ?? {};
      map[key.slice(prefix.length)] = text ?? (list ?? []).join(',');
      block.prefixed.set(prefix, map);
      continue;
    }
    const parsed = parseOption(spec!, text, list);
    if ('error' in parsed) {
      ctx.issues.error(keyLine, keyPath, parsed.error);
      continue;
    }
    if (spec!.effect === 'flink-only') ctx.issues.warn(keyLine, keyPath, 'accepted for Flink CDC; has no effect in Tidemark');
    if (spec!.effect === 'ignored') ctx.issues.warn(keyLine, keyPath, ignoredMessage(spec!.reason));
    if (spec!.effect === 'unsupported') {
      ctx.issues.error(keyLine, keyPath, `${String(parsed.value)} is not supported: ${spec!.reason ?? ''}`, 'Unsupported');
      continue;
    }
    block.values.set(key, { value: parsed.value, line: keyLine });
  }
  for (const spec of specs) {
    if (spec.required && !block.values.has(spec.key) && !block.keys.includes(spec.key)) {
      ctx.issues.error(line, path, `missing required key ${JSON.stringify(spec.key)}`);
    }
  }
  return block;
}

export function ignoredMessage(reason: string | undefined): string {
  return `accepted but ignored: ${reason ?? 'no reason given'}`;
}

/**
 * Warns about every `prefix*` key of the block that Tidemark does not act on: those whose spec in
 * `specs` (matched by suffix, case-insensitively) is `ignored`, and those without a spec
 * (`otherReason`). Returns the honoured ones, suffix as written → value.
 */
export function reportPrefixed(b: Block, prefix: string, specs: KeySpec[], otherReason: string, ctx: ReadContext): Map<KeySpec, { suffix: string; value: string }> {
  const honoured = new Map<KeySpec, { suffix: string; value: string }>();
  for (const [suffix, value] of Object.entries(b.prefixed.get(prefix) ?? {})) {
    const spec = specs.find((s) => s.key.toLowerCase() === suffix.toLowerCase());
    const key = `${prefix}${suffix}`;
    if (!spec || spec.effect === 'ignored') ctx.issues.warn(lineOfKey(b, key), `${b.path}.${key}`, ignoredMessage(spec?.reason ?? otherReason));
    else honoured.set(spec, { suffix, value });
  }
  return honoured;
}

function parseOption(spec: KeySpec, text: string | null, list: string[] | null): { value: OptionValue } | { error: string } {
  if (spec.kind === 'list') return { value: list ?? splitList(text ?? '') };
  const t = text ?? '';
  switch (spec.kind) {
    case 'string':
      return { value: t };
    case 'int':
      return parseInteger(t, spec.min, spec.max);
    case 'bool':
      return parseBool(t);
    case 'duration':
      return parseDuration(t);
    case 'enum': {
      const hit = spec.values!.find((v) => v.toLowerCase() === t.trim().toLowerCase());
      return hit === undefined ? { error: `expected one of ${spec.values!.join(', ')}, found ${JSON.stringify(t)}` } : { value: hit };
    }
  }
}

export function describe(node: unknown): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) return node.value === null ? 'nothing' : JSON.stringify(node.value);
  return 'an unexpected value';
}

/** Typed getters over a block; absent keys give the default. */
export function getString(b: Block, key: string): string | null {
  const v = b.values.get(key)?.value;
  return typeof v === 'string' ? v : null;
}
export function getNumber(b: Block, key: string, fallback: number): number {
  const v = b.values.get(key)?.value;
  return typeof v === 'number' ? v : fallback;
}
export function getBool(b: Block, key: string, fallback: boolean): boolean {
  const v = b.values.get(key)?.value;
  return typeof v === 'boolean' ? v : fallback;
}
export function getList(b: Block, key: string): string[] | null {
  const v = b.values.get(key)?.value;
  return Array.isArray(v) ? v : null;
}
export function lineOfKey(b: Block, key: string): number {
  return b.lines.get(key) ?? b.line;
}
