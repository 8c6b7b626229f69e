/**
 * `connect.max-retries` with Flink CDC's meaning (its JdbcConnectionFactory): the number of
 * attempts to open a connection, 300 ms apart, and at least one. Only a server that cannot be
 * reached is tried again: wrong credentials or a missing privilege fail at the first attempt, as
 * they do not heal within a second.
 */
import type mysql from 'mysql2/promise';
import { isTidemarkError, TidemarkError } from '../errors/index';
import { resolveConfig, type MySqlSourceConfig, type ResolvedConfig } from './config';
import { openConnection } from './connect';

/** Pause between two attempts (Flink CDC's). */
export const CONNECT_RETRY_DELAY_MS = 300;

/**
 * openConnection, tried up to `config.connectMaxRetries` times (at least once) while it fails
 * with SourceUnavailable. The last failure is thrown with the number of attempts in its message.
 */
export async function openConnectionRetrying(
  config: ResolvedConfig,
  what: string,
  options: { multipleStatements?: boolean } = {},
): Promise<mysql.Connection> {
  const attempts = Math.max(1, config.connectMaxRetries);
  for (let attempt = 1; ; attempt++) {
    try {
      return await openConnection(config, what, options);
    } catch (e) {
      // TLS failures (their context names the sslMode in force) do not heal within a second either.
      const retryable = isTidemarkError(e) && e.code === 'SourceUnavailable' && e.context.sslMode === undefined;
      if (!retryable || attempt >= attempts) {
        if (!retryable || attempts === 1) throw e;
        throw new TidemarkError(e.code, `${e.message} (${attempts} attempts, connect.max-retries ${config.connectMaxRetries})`, { ...e.context, attempts }, e);
      }
      await new Promise((r) => setTimeout(r, CONNECT_RETRY_DELAY_MS));
    }
  }
}

/**
 * A connection to the source for callers outside core/cdc (the pipeline reads the binlog end with
 * it): the source's driver options and UTC session, tried per connect.max-retries.
 */
export async function openSourceConnection(config: MySqlSourceConfig, what: string): Promise<mysql.Connection> {
  return await openConnectionRetrying(resolveConfig(config), what);
}
