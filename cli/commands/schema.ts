import { loadTable, selectSnapshot, snapshotSchema, type IcebergType, type NestedField } from '../../core/lake';
import { parseCommandArgs, stringifyJson, type CliRunner } from '../command';
import { isPaimonRoot, lakeLocation, paimonSelectorOf, parseSelector, toWire, REMOTE_OPTIONS } from './lake-args';
import { readPaimonSchema } from '../../core/lake/paimon';

function typeText(t: IcebergType): string {
  if (typeof t === 'string') return t;
  if (t.type === 'struct') return `struct<${t.fields.map((f) => `${f.name}: ${typeText(f.type)}`).join(', ')}>`;
  if (t.type === 'list') return `list<${typeText(t.element)}>`;
  return `map<${typeText(t.key)}, ${typeText(t.value)}>`;
}

function fieldJson(f: NestedField): unknown {
  return {
    id: f.id,
    name: f.name,
    required: f.required,
    type: typeof f.type === 'string' ? f.type : f.type.type === 'struct' ? { type: 'struct', fields: f.type.fields.map(fieldJson) } : f.type,
    ...(f.doc !== undefined ? { doc: f.doc } : {}),
    ...(f.initialDefault !== undefined ? { initialDefault: toWire(f.initialDefault) } : {}),
  };
}

export const schemaCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('schema', argv, { ...REMOTE_OPTIONS, json: { type: 'boolean' }, snapshot: { type: 'string' } }, { min: 1, max: 1, names: ['table'] });
    const sel = parseSelector('schema', values);
    const { root, storage } = await lakeLocation(positionals[0], values);
    if (await isPaimonRoot(root, storage)) {
      const p = await readPaimonSchema(storage, root, paimonSelectorOf(sel));
      if (values.json) {
        io.out(stringifyJson({ schemaId: p.schemaId, primaryKeys: p.primaryKeys, partitionKeys: p.partitionKeys, bucketCount: p.bucketCount, fields: p.fields.map(fieldJson) }));
        return;
      }
      io.out(`schema ${p.schemaId}`);
      for (const f of p.fields) io.out(`  ${String(f.id).padStart(3)}  ${f.name}: ${typeText(f.type)}${f.required ? ' not null' : ''}${p.primaryKeys.includes(f.name) ? ' (primary key)' : ''}`);
      if (p.partitionKeys.length) io.out(`partitioned by ${p.partitionKeys.join(', ')}`);
      return;
    }
    const { metadata } = await loadTable(storage, root);
    const schema = snapshotSchema(metadata, selectSnapshot(metadata, sel), sel);
    const spec = metadata.partitionSpecs.find((s) => s.specId === metadata.defaultSpecId);
    if (values.json) {
      io.out(stringifyJson({ schemaId: schema.schemaId, identifierFieldIds: schema.identifierFieldIds, fields: schema.fields.map(fieldJson), partitionSpec: spec }));
      return;
    }
    io.out(`schema ${schema.schemaId}`);
    for (const f of schema.fields) {
      const key = schema.identifierFieldIds.includes(f.id) ? ' (identifier)' : '';
      io.out(`  ${String(f.id).padStart(3)}  ${f.name}: ${typeText(f.type)}${f.required ? ' not null' : ''}${key}`);
    }
    if (spec && spec.fields.length > 0) io.out(`partitioned by ${spec.fields.map((p) => `${p.transform}(${schema.fields.find((f) => f.id === p.sourceId)?.name ?? p.sourceId})`).join(', ')}`);
  },
};
