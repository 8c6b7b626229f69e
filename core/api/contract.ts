/**
 * The contract between the UI and the engine: every call (`area.verb`) with its input schema
 * (validated at the boundary; wire form in, core form out) and output type, and every pushed event.
 * Electron main and the browser-mode server build their handler tables against `HandlerTable`,
 * so a missing or extra handler fails to compile.
 */
import { z } from 'zod';
import type { Wire } from './wire';

/** A 64-bit id on the wire: a decimal string, parsed to bigint for core. */
export const wireBigint = z
  .string()
  .regex(/^-?\d{1,20}$/, 'expected a decimal integer string')
  .transform((s) => BigInt(s));

export const callInputs = {
  'app.version': z.object({}).strict(),
  'app.initialState': z.object({}).strict(),
  'lake.openWarehouse': z.object({ path: z.string().min(1, 'expected a folder path') }).strict(),
} as const;

export interface AppVersion {
  /** Tidemark's version (package.json). */
  version: string;
  /** Node.js version of the process that serves the contract. */
  node: string;
  /** Electron version, or null in browser mode / CLI. */
  electron: string | null;
  /** 'electron' or 'browser'. */
  mode: 'electron' | 'browser';
}

export interface TableEntry {
  /** Namespace path inside the warehouse, e.g. `demo` (nested namespaces joined by '.'). */
  namespace: string;
  name: string;
  /** Absolute path of the table root. */
  path: string;
  format: 'iceberg' | 'paimon';
}

export interface WarehouseListing {
  /** Absolute path of the warehouse folder. */
  path: string;
  tables: TableEntry[];
}

export interface CallOutputs {
  'app.version': AppVersion;
  'app.initialState': { warehouse: string | null };
  'lake.openWarehouse': WarehouseListing;
}

export type CallName = keyof typeof callInputs & keyof CallOutputs;
/** What core receives (after validation and wire decoding). */
export type CallInput<K extends CallName> = z.output<(typeof callInputs)[K]>;
/** What a client sends. */
export type WireCallInput<K extends CallName> = z.input<(typeof callInputs)[K]>;
export type CallOutput<K extends CallName> = CallOutputs[K];
export type WireCallOutput<K extends CallName> = Wire<CallOutputs[K]>;

/** Events pushed from the engine to the UI. */
export interface ApiEvents {
  /** A long-running operation reports progress (rows done, estimate). */
  'app.progress': { task: string; done: number; total: number | null; message: string };
}
export type EventName = keyof ApiEvents;

export interface HandlerContext {
  /** Pushes an event to the UI that made the call (and any other listener). */
  emit<E extends EventName>(event: E, payload: ApiEvents[E]): void;
}

export type HandlerTable = {
  [K in CallName]: (input: CallInput<K>, ctx: HandlerContext) => Promise<CallOutput<K>>;
};

export const CALL_NAMES = Object.keys(callInputs) as CallName[];

export function isCallName(name: unknown): name is CallName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(callInputs, name);
}
