/** core/cdc/binlog: reading the binlog (zongji), queueing whole transactions, the streaming state after the snapshot. */
export * from './errors';
export * from './history-columns';
export * from './queue';
export * from './reader';
export * from './rows';
export * from './stream-state';
export * from './zongji-rows';
