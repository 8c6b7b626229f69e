/** core/cdc/schema: the captured tables' schemas (INFORMATION_SCHEMA at start, DDL applied as read) and MySQL → Iceberg types and values. */
export * from './catalog';
export * from './information-schema';
export * from './column-codec';
export * from './type-map';
export * from './wkb';
