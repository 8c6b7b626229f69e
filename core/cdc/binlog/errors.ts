/**
 * What an error of the binlog connection means: a lost connection worth a reconnect, or a failure
 * to report once (a purged binlog, an undecodable event, a refused login), named by what it is.
 */
import { TidemarkError } from '../../errors/index';
import type { ResolvedConfig } from '../config';
import { isTlsHandshakeError, mapConnectionError } from '../connect';
import { isMissingBinlogError } from '../flavor';
import { formatPosition, type BinlogPosition } from '../offset';

/** Driver codes and server errnos that mean "the connection went away", worth a reconnect. */
const TRANSIENT_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND',
  'EAI_AGAIN', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_SERVER_SHUTDOWN', 'ER_CONNECTION_KILLED', 'ER_CON_COUNT_ERROR', 'ECONNABORTED',
]);
// 1040 too many connections, 1053 shutdown in progress, 1927 connection killed, 2006/2013 server gone / lost.
const TRANSIENT_ERRNOS = new Set([1040, 1053, 1927, 2006, 2013]);

export interface StreamPlace {
  /** Where the stream would resume (null before the first position is known). */
  resumeAt: BinlogPosition | null;
  /** The GTID set the stream started from, when it started from one. */
  startGtidSet: string | undefined;
  /** The binlog file being read ('' before the first rotate event). */
  file: string;
}

/** null when `e` is a lost connection (reconnect); else the error the stream fails with. */
export function classifyStreamError(e: Error, config: ResolvedConfig, place: StreamPlace): TidemarkError | null {
  const err = e as Error & { errno?: number; code?: string };
  const { resumeAt, file } = place;
  if (isMissingBinlogError(err)) {
    const at = resumeAt ? formatPosition(resumeAt) : `GTID ${place.startGtidSet}`;
    return new TidemarkError(
      'SourceUnavailable',
      `binlog needed to resume at ${at} is no longer on ${config.hostname}:${config.port} (purged or never written): ${err.message}; a re-snapshot is needed (startup mode initial)`,
      { file: resumeAt?.file ?? null, pos: resumeAt ? resumeAt.pos.toString() : null, errno: err.errno ?? null },
      e,
    );
  }
  const mapped = mapConnectionError(e, config, 'binlog stream');
  // A refused certificate or a server without TLS fails the same way on every reconnect.
  if (isTlsHandshakeError(e)) return mapped;
  const transient =
    mapped.code === 'SourceUnavailable' &&
    ((err.code !== undefined && TRANSIENT_CODES.has(err.code)) || TRANSIENT_ERRNOS.has(err.errno ?? -1) || /connection (lost|closed|ended)|closed state/i.test(err.message));
  if (transient) return null;
  // Anything else (undecodable events, wrong GTID flavour, a server error) would fail again on
  // every reconnect: report it once, as what it is.
  return mapped.code === 'SourceUnavailable' ? new TidemarkError('DataInvalid', `binlog stream at ${file || 'start'}: ${err.message}`, { file }, e) : mapped;
}
