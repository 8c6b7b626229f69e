import { z } from 'zod';
import { TidemarkError } from '../errors';

/**
 * The Iceberg REST catalog's wire shapes (apache/iceberg open-api/rest-catalog-open-api.yaml), in
 * the spec's spelling, shared by the server and the client. Bodies are parsed with parseJsonBigint,
 * so 64-bit ids arrive as bigint when they exceed 2^53 and as number otherwise: `long` takes both.
 * Schemas, partition specs, sort orders and snapshots stay raw JSON here; core/lake's serde reads them.
 */
const long = z.union([z.bigint(), z.number().int()]).transform((v) => BigInt(v));
const json = z.record(z.string(), z.unknown());
const stringMap = z.record(z.string(), z.string());
const namespace = z.array(z.string()).min(1);

export const createNamespaceRequest = z.object({ namespace, properties: stringMap.nullish() });

export const updateNamespacePropertiesRequest = z.object({
  removals: z.array(z.string()).nullish(),
  updates: stringMap.nullish(),
});

export const createTableRequest = z.object({
  name: z.string(),
  location: z.string().nullish(),
  schema: json,
  'partition-spec': json.nullish(),
  'write-order': json.nullish(),
  'stage-create': z.boolean().nullish(),
  properties: stringMap.nullish(),
});
export type CreateTableRequest = z.input<typeof createTableRequest>;

export const tableRequirement = z.discriminatedUnion('type', [
  z.object({ type: z.literal('assert-create') }),
  z.object({ type: z.literal('assert-table-uuid'), uuid: z.string() }),
  z.object({ type: z.literal('assert-ref-snapshot-id'), ref: z.string(), 'snapshot-id': long.nullable() }),
  z.object({ type: z.literal('assert-last-assigned-field-id'), 'last-assigned-field-id': z.number().int() }),
  z.object({ type: z.literal('assert-current-schema-id'), 'current-schema-id': z.number().int() }),
  z.object({ type: z.literal('assert-last-assigned-partition-id'), 'last-assigned-partition-id': z.number().int() }),
  z.object({ type: z.literal('assert-default-spec-id'), 'default-spec-id': z.number().int() }),
  z.object({ type: z.literal('assert-default-sort-order-id'), 'default-sort-order-id': z.number().int() }),
]);
export type TableRequirement = z.output<typeof tableRequirement>;
export type TableRequirementInput = z.input<typeof tableRequirement>;

const refRetention = {
  'min-snapshots-to-keep': z.number().int().optional(),
  'max-snapshot-age-ms': z.number().int().optional(),
  'max-ref-age-ms': z.number().int().optional(),
};

/** The updates the server applies; other spec actions (statistics, encryption keys, …) are refused by name. */
export const UPDATE_ACTIONS = [
  'assign-uuid',
  'upgrade-format-version',
  'add-schema',
  'set-current-schema',
  'add-spec',
  'set-default-spec',
  'add-sort-order',
  'set-default-sort-order',
  'add-snapshot',
  'set-snapshot-ref',
  'remove-snapshot-ref',
  'remove-snapshots',
  'set-location',
  'set-properties',
  'remove-properties',
] as const;

export const tableUpdate = z.discriminatedUnion('action', [
  z.object({ action: z.literal('assign-uuid'), uuid: z.string() }),
  z.object({ action: z.literal('upgrade-format-version'), 'format-version': z.number().int() }),
  z.object({ action: z.literal('add-schema'), schema: json, 'last-column-id': z.number().int().optional() }),
  z.object({ action: z.literal('set-current-schema'), 'schema-id': z.number().int() }),
  z.object({ action: z.literal('add-spec'), spec: json }),
  z.object({ action: z.literal('set-default-spec'), 'spec-id': z.number().int() }),
  z.object({ action: z.literal('add-sort-order'), 'sort-order': json }),
  z.object({ action: z.literal('set-default-sort-order'), 'sort-order-id': z.number().int() }),
  z.object({ action: z.literal('add-snapshot'), snapshot: json }),
  z.object({ action: z.literal('set-snapshot-ref'), 'ref-name': z.string(), type: z.enum(['branch', 'tag']), 'snapshot-id': long, ...refRetention }),
  z.object({ action: z.literal('remove-snapshot-ref'), 'ref-name': z.string() }),
  z.object({ action: z.literal('remove-snapshots'), 'snapshot-ids': z.array(long) }),
  z.object({ action: z.literal('set-location'), location: z.string() }),
  z.object({ action: z.literal('set-properties'), updates: stringMap }),
  z.object({ action: z.literal('remove-properties'), removals: z.array(z.string()) }),
]);
export type TableUpdate = z.output<typeof tableUpdate>;
export type TableUpdateInput = z.input<typeof tableUpdate>;

/**
 * Spec update actions this catalog does not apply, with why: the table model keeps no statistics
 * or encryption keys (a rewritten metadata file would drop them), and v3 schema/spec removal is not
 * written. They fail as Unsupported naming the action rather than as an unknown discriminator.
 */
const REFUSED_ACTIONS: Record<string, string> = {
  'set-statistics': 'table statistics files are not kept in the metadata this catalog writes',
  'remove-statistics': 'table statistics files are not kept in the metadata this catalog writes',
  'set-partition-statistics': 'partition statistics files are not kept in the metadata this catalog writes',
  'remove-partition-statistics': 'partition statistics files are not kept in the metadata this catalog writes',
  'add-encryption-key': 'encryption keys are not kept in the metadata this catalog writes',
  'remove-encryption-key': 'encryption keys are not kept in the metadata this catalog writes',
  'remove-partition-specs': 'removing partition specs is not supported',
  'remove-schemas': 'removing schemas is not supported',
  'enable-row-lineage': 'row lineage (format-version 3) is not written',
};

/** One update of a commit, or Unsupported naming a spec action this catalog refuses. */
export function parseTableUpdate(value: unknown, where: string): TableUpdate {
  const action = (value as { action?: unknown } | null)?.action;
  if (typeof action === 'string' && REFUSED_ACTIONS[action]) {
    throw new TidemarkError('Unsupported', `${where}: update ${action} is not supported: ${REFUSED_ACTIONS[action]}`, { feature: action });
  }
  return parseWire(tableUpdate, value, where);
}

const tableIdentifier = z.object({ namespace, name: z.string() });

export const commitTableRequest = z.object({
  identifier: tableIdentifier.nullish(),
  requirements: z.array(z.unknown()),
  updates: z.array(z.unknown()),
});

/** POST /v1/{prefix}/transactions/commit: every change names its table. */
export const commitTransactionRequest = z.object({
  'table-changes': z.array(commitTableRequest.extend({ identifier: tableIdentifier })),
});

export interface CommitTableInput {
  requirements: TableRequirementInput[];
  updates: TableUpdateInput[];
}

/** The spec's ErrorModel: `{"error": {"message", "type", "code"}}`. */
export interface RestErrorBody {
  error: { message: string; type: string; code: number };
}

/** GET /v1/config (CatalogConfig). */
export interface CatalogConfig {
  defaults: Record<string, string>;
  overrides: Record<string, string>;
  endpoints?: string[];
}

/**
 * Parses `value` against a schema; a mismatch is InvalidInput naming `what` and the first issue's
 * path ("updates[2].snapshot-id: expected …").
 */
export function parseWire<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const where = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  throw new TidemarkError('InvalidInput', `${what}${where}: ${issue.message}`, { request: what });
}

/**
 * A namespace or table name as one folder name: no separators, no `.`/`..`, no leading dot (the
 * warehouse skips hidden folders), no control characters.
 */
export function checkName(name: string, what: string): string {
  // eslint-disable-next-line no-control-regex
  if (name === '' || name === '.' || name === '..' || name.startsWith('.') || /[/\\\u0000-\u001f]/.test(name)) {
    throw new TidemarkError('InvalidInput', `${what} ${JSON.stringify(name)} is not a valid name: expected a folder name without "/", "\\", control characters or a leading "."`, { name });
  }
  return name;
}
