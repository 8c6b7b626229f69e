/**
 * `server-time-zone` checked as Flink CDC checks it (MySqlValidator.checkTimeZone): its offset
 * from UTC now must equal the server's, else the source does not start. Tidemark itself reads
 * TIMESTAMP as UTC instants whatever the zone (schema/column-codec.ts); the check keeps a
 * pipeline that runs here from failing on a Flink cluster, whose snapshot reads use this zone.
 */
import type mysql from 'mysql2/promise';

const FIXED = /^(?:GMT|UTC)?([+-])(\d{1,2})(?::?(\d{2}))?$/;

/**
 * Offset of `zone` from UTC in seconds at `at` (east positive): a fixed offset (`+08:00`,
 * `GMT-8`, `UTC+05:30`, `Z`) or an IANA name (`Asia/Shanghai`, `UTC`). Null for an unknown zone.
 */
export function zoneOffsetSeconds(zone: string, at: Date): number | null {
  const z = zone.trim();
  if (z === 'Z') return 0;
  const m = FIXED.exec(z);
  if (m) return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60);
  let name: string | undefined;
  try {
    name = new Intl.DateTimeFormat('en-US', { timeZone: z, timeZoneName: 'longOffset' }).formatToParts(at).find((p) => p.type === 'timeZoneName')?.value;
  } catch {
    return null;
  }
  // `GMT` for UTC itself, else `GMT+05:30`.
  if (name === 'GMT') return 0;
  const g = name ? FIXED.exec(name) : null;
  return g ? (g[1] === '-' ? -1 : 1) * (Number(g[2]) * 3600 + Number(g[3] ?? 0) * 60) : null;
}

/** `+05:30` for 19800 seconds. */
export function formatOffset(seconds: number): string {
  const abs = Math.abs(seconds);
  return `${seconds < 0 ? '-' : '+'}${String(Math.floor(abs / 3600)).padStart(2, '0')}:${String(Math.floor((abs % 3600) / 60)).padStart(2, '0')}`;
}

/**
 * The server's offset from UTC now, in seconds, and its time_zone setting. Read through the global
 * zone, since Tidemark's own sessions run in UTC.
 */
export async function readServerOffset(conn: mysql.Connection): Promise<{ seconds: number | null; setting: string }> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(
    "SELECT TIME_TO_SEC(TIMEDIFF(CONVERT_TZ(UTC_TIMESTAMP(), '+00:00', @@global.time_zone), UTC_TIMESTAMP())) AS s, @@global.time_zone AS tz, @@system_time_zone AS sys",
  );
  const r = rows[0]!;
  const setting = String(r.tz).toUpperCase() === 'SYSTEM' ? `SYSTEM (${String(r.sys)})` : String(r.tz);
  return { seconds: r.s === null ? null : Number(r.s), setting };
}
