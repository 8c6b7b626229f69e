import { computeMetrics } from '/work/main/core/lake/write/parquet-write';
import { alignArrowTable } from '/work/main/core/lake/write/arrow-append';
import { Decimal, Field, Float64, Int64, RecordBatch, Schema, Struct, Table, TimestampMicrosecond, Utf8, makeData } from 'apache-arrow';
const n = 1_000_000;
const mk = (type: any, data: any, extra: any = {}) => makeData({ type, length: n, data, ...extra });
const words = new Uint32Array(n*4); for (let i=0;i<n;i++) words[i*4]=(i*7919)%10000000;
const text = new Uint8Array(n*10).fill(97); const off = new Int32Array(n+1); for (let i=0;i<=n;i++) off[i]=i*10;
const t = new BigInt64Array(n); for (let i=0;i<n;i++) t[i]=BigInt(i);
const fields=[new Field('id',new Int64(),false),new Field('name',new Utf8()),new Field('score',new Float64()),new Field('created_at',new TimestampMicrosecond()),new Field('amount',new Decimal(2,18,128))];
const ch=[mk(new Int64(),t),mk(new Utf8(),text,{valueOffsets:off}),mk(new Float64(),new Float64Array(n)),mk(new TimestampMicrosecond(),t),mk(new Decimal(2,18,128),words)];
const s=new Schema(fields); const table=new Table(s,[new RecordBatch(s,makeData({type:new Struct(fields),length:n,nullCount:0,children:ch}))]);
const al = alignArrowTable({schemaId:0,type:'struct',identifierFieldIds:[],fields:[{id:1,name:'id',type:'long',required:true},{id:2,name:'name',type:'string',required:false},{id:3,name:'score',type:'double',required:false},{id:4,name:'created_at',type:'timestamp',required:false},{id:5,name:'amount',type:'decimal(18, 2)',required:false}]} as any, table);
for (let k=0;k<3;k++){const t0=performance.now(); computeMetrics(al); console.log('metrics', performance.now()-t0);}
import { Table as T2 } from 'apache-arrow';
for (let c = 0; c < 5; c++) {
  const sub = new T2(al.schema.fields[c] ? { [al.schema.fields[c]!.name]: al.getChildAt(c)! } as any : {});
  const t0 = performance.now(); computeMetrics(al.selectAt([c])); console.log(al.schema.fields[c]!.name, performance.now() - t0);
  void sub;
}
