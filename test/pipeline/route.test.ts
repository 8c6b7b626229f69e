import { describe, expect, it } from 'vitest';
import { loadPipelineConfig, planRoutes, type SourceTableInfo } from '../../core/pipeline';
import { convertTableList, matchTable } from '../../core/pipeline';

const BASE = 'source:\n  type: mysql\n  hostname: h\n  username: u\n  password: p\n  tables: TABLES\nsink:\n  type: iceberg\n  catalog.properties.type: hadoop\n  catalog.properties.warehouse: /w\n';

function config(tables: string, rest: string) {
  return loadPipelineConfig(BASE.replace('TABLES', tables) + rest, { fileName: 'p.yaml' }).config;
}
const t = (db: string, table: string, columns = ['id', 'amount'], primaryKeys = ['id']): SourceTableInfo => ({ db, table, columns, primaryKeys });

describe('Flink CDC table patterns', () => {
  it('swaps . (separator) and \\. (any character) and full-matches', () => {
    expect(convertTableList('app.order_\\.*, app.users')).toBe('^(?:app\\.order_.*|app\\.users)$');
    const p = { text: 'app.order_\\.*', regex: convertTableList('app.order_\\.*') };
    expect(matchTable(p, 'app', 'order_1')).not.toBeNull();
    expect(matchTable(p, 'app', 'order_')).not.toBeNull();
    expect(matchTable(p, 'xapp', 'order_1')).toBeNull(); // anchored at the start
    expect(matchTable(p, 'app', 'orders')).toBeNull();
    // An unescaped dot is a literal separator: "appXorder_1" in one db does not match.
    expect(matchTable({ text: 'a.b', regex: convertTableList('a.b') }, 'aXb', '')).toBeNull();
    expect(matchTable({ text: 'db[1-2].[app|web]order_\\.*', regex: convertTableList('db[1-2].[app|web]order_\\.*') }, 'db2', 'porder_9')).not.toBeNull();
  });
});

describe('planRoutes', () => {
  it('merges sharded app.order_\\.* into ods.orders and warns that keys collide', () => {
    const c = config('app.\\.*', 'route:\n  - source-table: app.order_\\.*\n    sink-table: ods.orders\n');
    const plan = planRoutes(c, [t('app', 'order_1'), t('app', 'order_2', ['id', 'amount', 'note']), t('app', 'users', ['id', 'name'])]);
    expect(plan.targets.map((x) => [`${x.target.db}.${x.target.table}`, x.sources.map((s) => s.table), x.key, x.columns])).toEqual([
      ['ods.orders', ['order_1', 'order_2'], ['id'], ['id', 'amount', 'note']],
      ['app.users', ['users'], ['id'], ['id', 'name']],
    ]);
    expect(plan.unrouted).toEqual(['app.users']);
    expect(plan.warnings).toEqual([
      {
        kind: 'key-collision',
        target: 'ods.orders',
        message: 'ods.orders merges app.order_1, app.order_2 on key (id): rows with equal keys in different shards overwrite each other; add tidemark.key.shard-columns: __table_name__ to route[0]',
      },
    ]);
  });

  it('adds __table_name__ to the key when configured, and then does not warn', () => {
    const c = config('app.\\.*', 'route:\n  - source-table: app.order_\\.*\n    sink-table: ods.orders\n    tidemark.key.shard-columns: __table_name__\n');
    const plan = planRoutes(c, [t('app', 'order_1'), t('app', 'order_2')]);
    expect(plan.targets[0]).toMatchObject({ key: ['id', '__table_name__'], shardColumns: ['__table_name__'], columns: ['id', 'amount', '__table_name__'] });
    expect(plan.warnings).toEqual([]);
  });

  it('still warns when shards in different databases share a table name', () => {
    const c = config('db\\.*.order_\\.*', 'route:\n  - source-table: db\\.*.order_\\.*\n    sink-table: ods.orders\n    tidemark.key.shard-columns: __table_name__\n');
    const plan = planRoutes(c, [t('db1', 'order_1'), t('db2', 'order_1')]);
    expect(plan.warnings.map((w) => w.message)).toEqual([
      'ods.orders merges db1.order_1, db2.order_1 on key (id, __table_name__): rows with equal keys in different shards overwrite each other; add tidemark.key.shard-columns: __schema_name__, __table_name__ to route[0]',
    ]);
  });

  it('substitutes $1 capture groups and replace-symbol', () => {
    const c = config('app.\\.*', 'route:\n  - source-table: app.(order|item)_(\\d+)\n    sink-table: ods.$1s_$2\n  - source-table: app.u\\.*\n    sink-table: dim.<>_v1\n    replace-symbol: <>\n');
    const plan = planRoutes(c, [t('app', 'order_7'), t('app', 'item_12'), t('app', 'users')]);
    expect(plan.tables.map((x) => x.targets.map((y) => `${y.target.db}.${y.target.table}`))).toEqual([['ods.orders_7'], ['ods.items_12'], ['dim.users_v1']]);
  });

  it('ALL_MATCH sends a table to every matching route, FIRST_MATCH only to the first', () => {
    const routes = 'route:\n  - source-table: app.(a|b)\n    sink-table: one.t\n  - source-table: app.(b|c)\n    sink-table: two.t\n';
    const all = planRoutes(config('app.\\.*', routes), [t('app', 'b')]);
    expect(all.tables[0]!.targets.map((x) => x.routeIndex)).toEqual([0, 1]);
    const first = planRoutes(config('app.\\.*', `${routes}pipeline:\n  route-mode: FIRST_MATCH\n`), [t('app', 'b'), t('app', 'c')]);
    expect(first.tables.map((x) => x.targets.map((y) => `${y.target.db}.${y.target.table}`))).toEqual([['one.t'], ['two.t']]);
  });

  it('honours tables.exclude and reports tables outside source.tables', () => {
    const c = loadPipelineConfig(BASE.replace('TABLES', 'app.\\.*') + '', { fileName: 'p.yaml' }).config;
    c.source.tablesExclude = { text: 'app.tmp_\\.*', regex: convertTableList('app.tmp_\\.*') };
    const plan = planRoutes(c, [t('app', 'orders'), t('app', 'tmp_1'), t('other', 'x')]);
    expect(plan.tables.map((x) => x.source.table)).toEqual(['orders']);
    expect(plan.excluded).toEqual(['app.tmp_1']);
    expect(plan.notCaptured).toEqual(['other.x']);
    expect(plan.unrouted).toEqual([]); // no routes at all: same-name targets are not "unmatched"
  });

  it('applies the first matching transform: projected columns and primary-keys override', () => {
    const c = config('app.\\.*', 'transform:\n  - source-table: app.users\n    projection: id, UPPER(name) AS name_u, __table_name__ AS src\n    primary-keys: id, src\n');
    const plan = planRoutes(c, [t('app', 'users', ['id', 'name'], [])]);
    expect(plan.tables[0]).toMatchObject({ transformIndex: 0, columns: ['id', 'name_u', 'src'] });
    expect(plan.targets[0]!.key).toEqual(['id', 'src']);
    expect(plan.warnings).toEqual([]);
  });

  it('warns about tables without a primary key and about a projection reading a missing column', () => {
    const c = config('app.\\.*', 'transform:\n  - source-table: app.b\n    projection: id, nope\n');
    const plan = planRoutes(c, [t('app', 'a', ['x'], []), t('app', 'b', ['id'], ['id'])]);
    expect(plan.warnings.map((w) => w.message)).toEqual([
      'transform[0] on app.b: projection reads column "nope", which the source table does not have (columns: id)',
      'app.a has no primary key: updates and deletes cannot be applied (set primary-keys in a transform)',
    ]);
  });
});
