/**
 * Every bad-input path and the exact message a user sees (CLI: the `error[Code]: …` line; app: the
 * same message in the UI). test/bad-input/messages.test.ts checks each row; docs/bad-input.md is
 * generated from this list (`npx tsx test/bad-input/write-doc.ts`) and checked to be current.
 * `{port}`, `{fixtures}`, `{tmp}`, `{host}` (this machine) and `{disk}` (a small tmpfs) stand for the
 * values of the run.
 */
export interface BadInputRow {
  area: 'CLI' | 'lake' | 'query' | 'pipeline' | 'source' | 'browser mode';
  input: string;
  code: string;
  message: string;
}

export const BAD_INPUT_ROWS: BadInputRow[] = [
  { area: 'CLI', input: 'tidemark nonsense', code: 'InvalidInput', message: 'unknown command "nonsense"; run tidemark --help' },
  { area: 'CLI', input: 'tidemark count <table> --snapshot abc', code: 'InvalidInput', message: 'count: --snapshot expects a decimal snapshot id, found "abc"' },
  { area: 'CLI', input: 'tidemark tables (no folder)', code: 'InvalidInput', message: 'tables: missing <warehouse>' },
  { area: 'lake', input: 'a warehouse folder that does not exist', code: 'NotFound', message: 'warehouse folder not found: /nonexistent/warehouse' },
  { area: 'lake', input: 'a folder that is not a table', code: 'NotFound', message: 'not an Iceberg table: /nonexistent/metadata is missing' },
  { area: 'lake', input: 'unknown snapshot id', code: 'NotFound', message: 'snapshot 1234 not found in table s3a://hyperparam-iceberg/spark/bunnies' },
  { area: 'lake', input: 'a snapshot whose manifest list is missing', code: 'NotFound', message: 'manifest list of snapshot 7342794868382145167 not found: {fixtures}/iceberg/duckdb-iceberg/equality_deletes_mytable/metadata/snap-7342794868382145167-1-34f7dec7-90c5-4cd5-b158-5782b73fc010.avro' },
  { area: 'lake', input: 'truncated metadata JSON', code: 'DataInvalid', message: '{tmp}/ns/t/metadata/v1.metadata.json: expected table metadata JSON: Unexpected end of JSON input' },
  { area: 'lake', input: 'an Iceberg v3 deletion vector whose .puffin file is a bare blob, not a Puffin file', code: 'DataInvalid', message: '{fixtures}/iceberg-v3/duckdb-iceberg/legacy_bare_deletion_vector/data/legacy-bare-deletion-vector.puffin: expected a Puffin file: no PFA1 magic at byte 0 (found 00 00 00 22)' },
  { area: 'lake', input: 'an Iceberg ORC data file compressed with SNAPPY (scan)', code: 'Unsupported', message: '{tmp}/orc/data/00000-1-01c07679-b344-4993-aaa7-1c0aa90555ed-0-00001.orc: ORC compression SNAPPY is not supported (NONE, ZLIB, ZSTD are)' },
  { area: 'lake', input: 'cherry-pick on a Paimon table', code: 'Unsupported', message: 'cherry-pick: {fixtures}/paimon/paimon-cpp/pk_table_scan_and_read_mor is a Paimon table, and Paimon has no cherry-pick (its branches are merged by fast-forward only); cherry-pick is for Iceberg tables' },
  { area: 'lake', input: 'rollback of a Paimon table to a snapshot it does not have', code: 'NotFound', message: 'rollback: snapshot 99 not found in {fixtures}/paimon/paimon-cpp/pk_table_scan_and_read_mor/snapshot (snapshots are 1..5)' },
  { area: 'lake', input: 'a Paimon branch named main', code: 'InvalidInput', message: 'branch name "main" is the default branch of a Paimon table and cannot be created or deleted' },
  { area: 'lake', input: 'compacting only the small files of a Paimon table', code: 'Unsupported', message: "compaction of small files only is Iceberg's; a Paimon table ({fixtures}/paimon/paimon-cpp/pk_table_scan_and_read_mor) is compacted whole (full compaction of every bucket)" },
  { area: 'query', input: 'SQL syntax error', code: 'InvalidInput', message: 'Parser Error: syntax error at or near "SELEC" (line 1, column 1)' },
  { area: 'query', input: 'SQL naming an unknown table', code: 'NotFound', message: 'table demo.nope not found in warehouse {fixtures}/paimon; tables: paimon-cpp.append_09, paimon-cpp.append_complex_data, paimon-cpp.pk_table_nested_type, paimon-cpp.pk_table_scan_and_read_dv, paimon-cpp.pk_table_scan_and_read_mor, paimon-cpp.pk_table_with_alter_table' },
  { area: 'query', input: 'time travel before the first snapshot', code: 'NotFound', message: 'no snapshot at or before 2000-01-01T00:00:00.000Z' },
  { area: 'query', input: 'a Paimon system table Tidemark does not answer', code: 'NotFound', message: 'paimon-cpp.append_09$binlog: no system table $binlog on Paimon table paimon-cpp.append_09; supported: $snapshots, $schemas, $options, $audit_log, $files, $tags' },
  { area: 'query', input: 'a Paimon system table on an Iceberg table', code: 'NotFound', message: 'icebird.spark_bunnies$snapshots: icebird.spark_bunnies is an Iceberg table; system tables ($snapshots, $schemas, $options, $audit_log, $files, $tags) exist on Paimon tables only' },
  { area: 'query', input: "read_parquet('x.parquet') in SQL", code: 'Unsupported', message: 'Catalog Error: Table Function with name "read_parquet" is not in the catalog, but it exists in the parquet extension. — Tidemark reads Parquet through the lake (query tables as ns.table), not with read_parquet' },
  { area: 'pipeline', input: 'unknown YAML key (typo)', code: 'InvalidInput', message: 'p.yaml:4: source.hostnme: unknown key; did you mean "hostname"?' },
  { area: 'pipeline', input: 'a sink other than Iceberg or Paimon', code: 'Unsupported', message: 'p.yaml:9: sink.type: sink type "doris" is not supported: Tidemark writes Apache Iceberg (type: iceberg) and Apache Paimon (type: paimon) tables' },
  { area: 'pipeline', input: 'sharded tables merged on a colliding key', code: 'warning', message: 'ods.orders merges app.order_0, app.order_1 on key (id): rows with equal keys in different shards overwrite each other; add tidemark.key.shard-columns: __table_name__ to route[0]' },
  { area: 'source', input: 'wrong password', code: 'InvalidInput', message: 'preflight: access denied for cdc@127.0.0.1:{port}: wrong username or password' },
  { area: 'source', input: 'unreachable server', code: 'SourceUnavailable', message: 'preflight: cannot reach 127.0.0.1:1 as cdc (ECONNREFUSED) (3 attempts, connect.max-retries 3)' },
  { area: 'source', input: 'missing privilege', code: 'check', message: "privileges: weak@127.0.0.1:{port} lacks REPLICATION SLAVE, BINLOG MONITOR ON *.*; GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'weak'@'…'" },
  { area: 'source', input: 'table without a primary key', code: 'check', message: 'primary_keys: no primary key (and no scan.incremental.snapshot.chunk.key-column) on app.nokey' },
  {
    area: 'source',
    input: 'TLS required, server without TLS',
    code: 'SourceUnavailable',
    message: 'preflight: 127.0.0.1:{port} does not offer TLS, but jdbc.properties.sslMode REQUIRED requires it: enable TLS on the server (ssl_cert, ssl_key), or set jdbc.properties.sslMode to PREFERRED or DISABLED',
  },
  { area: 'source', input: 'a chunk key column outside the primary key', code: 'InvalidInput', message: 'scan.incremental.snapshot.chunk.key-column: g is not a primary-key column of app.ck (key: id)' },
  {
    area: 'source',
    input: 'a keyless table chunked by a spatial column only a SPATIAL index covers',
    code: 'Unsupported',
    message: 'scan.incremental.snapshot.chunk.key-column: app.ekey.k is point and no B-tree index starts with it (a SPATIAL index follows no order of the values), so every chunk would scan the whole table: add one (ALTER TABLE app.ekey ADD INDEX (k(32))) or name another NOT NULL column',
  },
  { area: 'source', input: 'table regex matching nothing', code: 'check', message: 'tables: no table on 127.0.0.1:{port} matches zzz\\..*' },
  { area: 'pipeline', input: 'the same pipeline started twice on one warehouse', code: 'CommitConflict', message: 'pipeline "p" is already running on this warehouse (pid 1 on {host}, started 1970-01-01T00:00:00.000Z; lock {tmp}/w/.tidemark/p.lock): stop it first, or delete the lock file if that process is gone' },
  { area: 'lake', input: 'a full disk during a commit', code: 'Io', message: 'cannot write {disk}/t/data/DATA.parquet: no space left on device (ENOSPC)' },
  { area: 'lake', input: 'a read-only warehouse during a commit', code: 'Io', message: 'cannot write {disk}/t/data/DATA.parquet: read-only file system (EROFS)' },
  { area: 'source', input: 'binlog off', code: 'check', message: 'log_bin: expected ON, found OFF; start the server with --log-bin' },
  {
    area: 'source',
    input: 'binlog without column names (binlog_row_metadata MINIMAL or NO_LOG)',
    code: 'check',
    message: 'binlog_row_metadata: expected FULL, found NO_LOG; set binlog_row_metadata=FULL (MySQL 8.0.1+, MariaDB 10.5+): without it rows replayed after an ALTER get wrong column names; or name them from the schema history (source option tidemark.row-metadata: schema-history)',
  },
  { area: 'browser mode', input: 'a lake file outside the opened folders (.., absolute, encoded)', code: 'InvalidInput', message: 'path is outside the opened folders: /etc/passwd' },
  { area: 'browser mode', input: 'a request without the token', code: 'InvalidInput (401)', message: 'missing or wrong token' },
];

export function renderDoc(): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '# Bad input: what a user sees',
    '',
    'Every row is checked by `test/bad-input/messages.test.ts`. `check` rows are preflight checks (one line each in',
    '"Test connection" and `tidemark plan`); `warning` rows do not stop anything. `{port}`, `{fixtures}`, `{tmp}`, `{host}`',
    'and `{disk}` (a small tmpfs the disk rows mount) stand for the values of a run.',
    '',
    '| area | input | code | message |',
    '| --- | --- | --- | --- |',
    ...BAD_INPUT_ROWS.map((r) => `| ${r.area} | ${esc(r.input)} | ${r.code} | \`${esc(r.message)}\` |`),
    '',
  ].join('\n');
}
