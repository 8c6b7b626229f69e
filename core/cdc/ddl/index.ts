/** core/cdc/ddl: DDL statements read from the binlog: tokenizer, parser, and their effect on the schema catalog. */
export * from './handler';
export * from './parser';
export * from './tokenizer';
