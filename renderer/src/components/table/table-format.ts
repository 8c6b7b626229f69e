import type { TableInfo } from '../../../../core/api';

/** A table's format, as the contract names it. */
export type TableFormat = TableInfo['format'];

/**
 * What the table view shows and offers for a table format: the one place in the renderer that
 * tells Iceberg and Paimon apart (components ask for traits, never compare the format).
 */
export interface FormatTraits {
  /** The header's name of the format and version ("Iceberg v2", "Paimon"). */
  label(formatVersion: number): string;
  /** Whether the header shows the table's first health note (Paimon: its layout, as buckets and levels). */
  headerNote: boolean;
  /** Whether a snapshot off main can be cherry-picked onto it (Paimon has no cherry-pick). */
  cherryPick: boolean;
  /** Whether rolling main back deletes the later snapshots and their tags (Paimon's rollback_to). */
  rollbackDeletesLater: boolean;
  /** Whether compaction can take the small files only or one partition (Paimon compacts every bucket in full). */
  partialCompaction: boolean;
  /** The whole-table compaction option's text. */
  wholeCompaction: string;
  /** What the snapshot expiry keeps, after "keep the last N". */
  expiryKeeps: string;
}

const TRAITS: Record<TableFormat, FormatTraits> = {
  iceberg: {
    label: (formatVersion) => `Iceberg v${formatVersion}`,
    headerNote: false,
    cherryPick: true,
    rollbackDeletesLater: false,
    partialCompaction: true,
    wholeCompaction: 'whole table (drops delete files)',
    expiryKeeps: 'per branch',
  },
  paimon: {
    label: () => 'Paimon',
    headerNote: true,
    cherryPick: false,
    rollbackDeletesLater: true,
    partialCompaction: false,
    wholeCompaction: 'whole table (full compaction of every bucket)',
    expiryKeeps: '(tags keep theirs)',
  },
};

export function formatTraits(format: TableFormat): FormatTraits {
  return TRAITS[format];
}
