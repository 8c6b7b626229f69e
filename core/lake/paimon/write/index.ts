/**
 * The Paimon write path (Node only: node:fs): primary-key tables with a fixed bucket count,
 * Parquet data files, Avro manifests, the deduplicate merge engine. Read-path code must not import
 * this folder. See core/lake/paimon/README.md for what is written and what is refused.
 */
export { createPaimonTable, buildSchemaJson, assertWritableSchema, type PaimonColumn, type PaimonTableDescription } from './table-create';
export { commitPaimonChanges, preparePaimonChanges, type PaimonChange, type PaimonCommitOptions, type PreparedPaimonFiles } from './commit-changes';
export { compactPaimonTable, commitPaimonCompaction, pickUniversalCompaction, preparePaimonCompaction, sortedRuns, universalOptionsOf, type PaimonCompactOptions, type PreparedPaimonCompaction, type SortedRun } from './compact';
export { readWriteState } from './state-cache';
export { expirePaimonSnapshots, type PaimonExpireOptions, type PaimonExpireResult } from './expire';
export { parsePaimonDuration } from './table-options';
export { evolvePaimonSchema, type PaimonSchemaChange } from './schema-evolution';
export { createPaimonTag, deletePaimonTag, type PaimonTagOptions } from './tags';
export { lastPaimonCommit, type PaimonCommitRecord } from './commit-lookup';
export { bucketOf, encodeBinaryRow, hashBinaryRow, toPhysical, type PhysicalValue } from './binary-row-write';
export { MANIFEST_ENTRY_SCHEMA, MANIFEST_FILE_META_SCHEMA, INDEX_MANIFEST_ENTRY_SCHEMA } from './manifest-write';
export type { PaimonCommitResult, PaimonCommitKind } from './snapshot-commit';
export { writeHintFile } from './snapshot-commit';
export { rollbackPaimonTable, type PaimonRollbackResult } from './rollback';
export { createPaimonBranch, deletePaimonBranch, checkPaimonRefName, type PaimonBranchOptions } from './branches';
export { movePaimonTag } from './tag-move';
export { planPaimonExpiry, type PaimonExpiryPlan } from './expire-plan';
export { planPaimonCompaction, type PaimonCompactionPlan } from './compact-plan';
export { removePaimonOrphanFiles, type PaimonRemoveOrphansOptions, type PaimonRemoveOrphansResult } from './remove-orphans';
