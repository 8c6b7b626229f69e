import type { CliCommand, CliRunner } from '../command';

interface CommandEntry extends Omit<CliCommand, 'run'> {
  load(): Promise<CliRunner>;
}

/**
 * Every `tidemark` command, in the order `--help` lists them, with its help text here so that
 * `--help` and argument errors need no command module: a command's module (and the packages it
 * imports, duckdb-wasm's alone ~1 s of CPU) is loaded only when that command runs. Later issues add
 * theirs here.
 */
const ENTRIES: CommandEntry[] = [
  { name: 'start', summary: 'Open the desktop app (falls back to browser mode where the Electron binary is missing)', usage: 'start [warehouse] [--port N] [--no-demo]', load: async () => (await import('./app')).startCommand },
  { name: 'serve', summary: 'Run the app in a browser: a local server on 127.0.0.1 guarded by a per-run token', usage: 'serve [warehouse] [--port N] [--no-demo]', load: async () => (await import('./app')).serveCommand },
  { name: 'tables', summary: 'List the tables of a warehouse folder (Iceberg and Paimon) with their format', usage: 'tables <warehouse> [--json]', load: async () => (await import('./tables')).tablesCommand },
  { name: 'snapshots', summary: 'List the snapshots of an Iceberg or Paimon table (ids as decimal strings in JSON)', usage: 'snapshots <table> [--json]', load: async () => (await import('./snapshots')).snapshotsCommand },
  { name: 'tag', summary: 'Create, move (--snapshot) or remove (--delete) a tag of an Iceberg or Paimon table', usage: 'tag <table> <name> [--snapshot ID] [--delete] [--json]', load: async () => (await import('./refs')).tagCommand },
  { name: 'branch', summary: 'Create, move (--snapshot) or remove (--delete) a branch of an Iceberg table; create or remove one of a Paimon table', usage: 'branch <table> <name> [--snapshot ID | --tag NAME (Paimon)] [--delete] [--json]', load: async () => (await import('./refs')).branchCommand },
  { name: 'rollback', summary: "Roll main back to one of its ancestors (Iceberg keeps the history; Paimon deletes the later snapshots and their tags)", usage: 'rollback <table> <snapshot> [--json]', load: async () => (await import('./refs')).rollbackCommand },
  { name: 'cherry-pick', summary: 'Apply a snapshot onto a branch of an Iceberg table (fast-forward, or re-apply an append)', usage: 'cherry-pick <table> <snapshot> [--branch NAME] [--json]', load: async () => (await import('./refs')).cherryPickCommand },
  { name: 'schema', summary: 'Show the schema of an Iceberg or Paimon table (current, or the one a snapshot was written with)', usage: 'schema <table> [--snapshot ID] [--json]', load: async () => (await import('./schema')).schemaCommand },
  { name: 'files', summary: 'List the data and delete files of a snapshot (Iceberg or Paimon) with sequence numbers and partitions', usage: 'files <table> [--snapshot ID] [--json]', load: async () => (await import('./files')).filesCommand },
  { name: 'scan', summary: 'Print the live rows of an Iceberg or Paimon table (deletes / LSM merge applied), with time travel', usage: 'scan <table> [--snapshot ID | --as-of ISO-8601 | --ref NAME] [--columns a,b] [--limit N] [--format json|csv|table]', load: async () => (await import('./scan')).scanCommand },
  { name: 'count', summary: 'Print the number of live rows of an Iceberg or Paimon table snapshot', usage: 'count <table> [--snapshot ID | --as-of ISO-8601 | --ref NAME]', load: async () => (await import('./scan')).countCommand },
  { name: 'demo', summary: 'Create a deterministic demo lake (namespace demo: customers, orders with 6 snapshots)', usage: 'demo <warehouse> [--seed N] [--format-version 2|3]', load: async () => (await import('./demo')).demoCommand },
  { name: 'compact', summary: 'Rewrite live rows into files of the target size, applying deletes (replace snapshot): all, --small files, or one --partition; a Paimon table: full compaction', usage: 'compact <table> [--small | --partition JSON] [--dry-run] [--json]', load: async () => (await import('./demo')).compactCommand },
  { name: 'expire', summary: 'Expire old snapshots of an Iceberg or Paimon table (refs / tags and the current one stay) and delete files no longer reachable', usage: 'expire <table|s3://…|rest+http(s)://…#ns.table> (--older-than ISO-8601 | --retain-last N) [--dry-run] [--json] [--profile NAME] [--catalog URI] [--token T | --credential ID:SECRET]', load: async () => (await import('./expire')).expireCommand },
  { name: 'remove-orphans', summary: 'Delete files under data/ and metadata/ that no table metadata references (default: older than 3 days)', usage: 'remove-orphans <table|s3://…|rest+http(s)://…#ns.table> [--older-than ISO-8601] [--dry-run] [--profile NAME] [--catalog URI] [--token T | --credential ID:SECRET]', load: async () => (await import('./remove-orphans')).removeOrphansCommand },
  { name: 'query', summary: 'Run SQL over a warehouse (tables as ns.table; FOR VERSION AS OF / FOR TIMESTAMP AS OF; Paimon ns.table$snapshots, $schemas, $options, $tags, $files, $audit_log)', usage: 'query <warehouse> "<sql>" [--format json|csv|table]', load: async () => (await import('./query')).queryCommand },
  { name: 'schema-diff', summary: 'Diff the schemas of two table versions (Iceberg or Paimon) by field id (snapshot ids or "current")', usage: 'schema-diff <table> <from> <to> [--json]', load: async () => (await import('./query')).schemaDiffCommand },
  { name: 'diff', summary: 'Row diff between two snapshots by key (identifier fields, --key, or whole rows)', usage: 'diff <table> <from> <to> [--key a,b] [--limit N] [--json]   (<from>, <to>: snapshot ids, or tag/branch names of an Iceberg table)', load: async () => (await import('./query')).diffCommand },
  { name: 'history', summary: 'Every version of one row across the retained snapshots', usage: 'history <table> --key col=value[,col=value] [--json]', load: async () => (await import('./query')).historyCommand },
  { name: 'stats', summary: 'Column statistics of a table version: nulls, min/max, distinct, histogram, top values', usage: 'stats <table> [--snapshot ID | --as-of ISO-8601 | --ref NAME] [--json]', load: async () => (await import('./query')).statsCommand },
  { name: 'export', summary: 'Write a table version to a CSV or Parquet file (by the --to extension)', usage: 'export <table> [--snapshot ID | --as-of ISO-8601 | --ref NAME] --to out.parquet|out.csv', load: async () => (await import('./query')).exportCommand },
  { name: 'version', summary: 'Print Tidemark\'s version', usage: 'version', load: async () => (await import('./version')).versionCommand },
  { name: 'validate', summary: 'Check a Flink CDC pipeline YAML file without connecting to anything', usage: 'validate <pipeline.yaml> [--json]', load: async () => (await import('./validate')).validateCommand },
  { name: 'export-flink', summary: 'Print the pipeline as a Flink CDC YAML file (Tidemark-only keys removed, listed as comments)', usage: 'export-flink <pipeline.yaml>', load: async () => (await import('./export-flink')).exportFlinkCommand },
  { name: 'plan', summary: 'Show what a sync pipeline would do (reads the source, writes nothing)', usage: 'plan <pipeline.yaml> [--json]', load: async () => (await import('./plan')).planCommand },
  { name: 'sync', summary: 'Run a sync pipeline: MySQL/MariaDB binlog into Iceberg, exactly once', usage: 'sync <pipeline.yaml> [--until-caught-up]', load: async () => (await import('./sync')).syncCommand },
  { name: 'catalog', summary: 'Serve a warehouse as an Iceberg REST catalog (127.0.0.1 and a bearer token by default)', usage: 'catalog <warehouse|s3://…> [--port N] [--host H] [--token T] [--profile NAME] [--vend-credentials]', load: async () => (await import('./catalog')).catalogCommand },
];

export const COMMANDS: CliCommand[] = ENTRIES.map(({ load, ...info }) => ({ ...info, run: async (argv, io) => (await load()).run(argv, io) }));
