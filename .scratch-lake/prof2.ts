import { tableToIPC } from 'apache-arrow';
import { Table as WasmTable, writeParquet, WriterPropertiesBuilder, Compression } from 'parquet-wasm';
import { computeMetrics, writeParquetBytes } from '../core/lake/write/parquet-write';
import { alignArrowTable } from '../core/lake/write/arrow-append';
// reuse bench table builder
const mod = await import('../bench/lake-append.ts') as any;
const table = mod.buildTable(1_000_000);
writeParquet(WasmTable.fromIPCStream(tableToIPC(mod.buildTable(1000), 'stream')));
const schema = {schemaId:0,type:'struct',identifierFieldIds:[],fields:[{id:1,name:'id',type:'long',required:true},{id:2,name:'name',type:'string',required:false},{id:3,name:'score',type:'double',required:false},{id:4,name:'created_at',type:'timestamp',required:false},{id:5,name:'amount',type:'decimal(18, 2)',required:false}]} as any;
for (let k = 0; k < 0; k++) {
  let t = performance.now(); const lap = (l: string) => { const n = performance.now(); console.log(l, Math.round(n - t)); t = n; };
  const wasm = WasmTable.fromIPCStream(tableToIPC(table, 'stream')); lap('ipc');
  writeParquet(wasm, new WriterPropertiesBuilder().setCompression(Compression.ZSTD).build()); lap('plain write');
  const al = alignArrowTable(schema, table); lap('align');
  computeMetrics(al); lap('metrics');
  writeParquetBytes(al, JSON.stringify({a: 1})); lap('writeParquetBytes');
}
const al2 = alignArrowTable(schema, table);
for (let c = 0; c < 5; c++) { let best = 1e9; for (let r = 0; r < 7; r++) { const t0 = performance.now(); computeMetrics(al2.selectAt([c])); best = Math.min(best, performance.now() - t0); } console.log(al2.schema.fields[c]!.name, Math.round(best)); }
