/**
 * Iceberg REST catalogs (Node only): a server over a local Tidemark warehouse and a client of any
 * REST catalog (apache/iceberg open-api/rest-catalog-open-api.yaml).
 */
export { startRestCatalogServer, type RestCatalogServer, type RestCatalogServerOptions } from './rest-server';
export { RestCatalogClient, type RestCatalogClientOptions, type LoadTableResult, type CommitTableResult, type Namespace } from './rest-client';
export { WarehouseCatalog } from './warehouse-catalog';
export { checkRequirements, applyUpdates } from './table-changes';
export type { CatalogConfig, CommitTableInput, CreateTableRequest, TableRequirementInput, TableUpdateInput, RestErrorBody } from './rest-types';
export { createCatalogStorage, isRestUri, parseRestUri, parseTableIdentifier, s3OptionsFromLoadResult, type CatalogStorage, type RestAddress, type StorageForLocation } from './rest-table';
export { createRestTableCatalog, catalogTableRoot, metadataChanges, type RestTableCatalogOptions } from './table-catalog';
export { createVendedStorage, type VendedStorage } from './vended-storage';
