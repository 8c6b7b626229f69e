/** core/cdc/snapshot: the consistent snapshot phase: chunk planning by key, chunk reads, the watermark handoff to the binlog. */
export * from './chunk-keys';
export * from './chunk-plan';
export * from './chunk-windows';
export * from './phase';
export * from './reader';
export * from './rows';
