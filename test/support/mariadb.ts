/**
 * A private MariaDB for tests that need a binlog: its own temp datadir, a free port on 127.0.0.1,
 * its own socket, ROW binlog with FULL row image and FULL row metadata. Started per test file,
 * stopped and removed afterwards. Never skips: a missing server binary fails with the package name.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';

export interface PrivateMariaDb {
  host: '127.0.0.1';
  port: number;
  socket: string;
  datadir: string;
  /** A TCP user with the privileges a CDC source needs (SELECT, RELOAD, REPLICATION SLAVE, BINLOG MONITOR). */
  user: string;
  password: string;
  /** Connection config for root over the socket (root@localhost only matches the socket). */
  rootConfig(): mysql.ConnectionOptions;
  /** Connection config for the CDC user over TCP. */
  cdcConfig(): mysql.ConnectionOptions;
  /**
   * Stops the server (SIGTERM, or SIGKILL with `{ kill: true }`) and starts it again on the same
   * datadir and port, as a server restart seen by clients. Waits until it accepts connections.
   */
  restart(options?: { kill?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Extra mariadbd flags, e.g. `--binlog-row-metadata=MINIMAL` to test preflight failures. */
  extraArgs?: string[];
  /** Set false to start without a binlog (for preflight tests). */
  binlog?: boolean;
}

function findBinary(name: string): string {
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']) {
    const p = join(dir, name);
    if (spawnSync('test', ['-x', p]).status === 0) return p;
  }
  const which = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  throw new Error(`${name} not found: install the Debian package mariadb-server (apt-get install -y mariadb-server)`);
}

export async function findFreePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForReady(socket: string, child: ChildProcess, logFile: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      const log = spawnSync('tail', ['-n', '20', logFile], { encoding: 'utf8' }).stdout;
      throw new Error(`mariadbd exited with code ${child.exitCode} during start:\n${log}`);
    }
    try {
      const conn = await mysql.createConnection({ socketPath: socket, user: 'root' });
      await conn.end();
      return;
    } catch (e) {
      lastError = e;
      // Polling a local socket: the server is normally ready in ~0.1 s.
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`mariadbd did not become ready in ${timeoutMs} ms: ${(lastError as Error)?.message}`);
}

export async function startPrivateMariaDb(options: StartOptions = {}): Promise<PrivateMariaDb> {
  const installDb = findBinary('mariadb-install-db');
  const mariadbd = findBinary('mariadbd');
  const base = await mkdtemp(join(tmpdir(), 'tidemark-mariadb-'));
  const datadir = join(base, 'data');
  const socket = join(base, 'mysqld.sock');
  const logFile = join(base, 'error.log');
  const install = spawnSync(
    installDb,
    // A private tmpdir: the bootstrap's temporary tables went to the shared /tmp, where a
    // concurrent run once lost one ("Error on delete of '/tmp/#sql-temptable-…'").
    ['--no-defaults', '--user=root', `--datadir=${datadir}`, '--auth-root-authentication-method=normal', '--skip-test-db', `--tmpdir=${base}`],
    { encoding: 'utf8' },
  );
  if (install.status !== 0) {
    await rm(base, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed (${install.status}): ${install.stderr || install.stdout}`);
  }
  const port = await findFreePort();
  const binlogArgs =
    options.binlog === false
      ? []
      : [`--log-bin=${join(datadir, 'binlog')}`, '--binlog-format=ROW', '--binlog-row-image=FULL', '--binlog-row-metadata=FULL'];
  const args = [
    '--no-defaults',
    '--user=root',
    `--datadir=${datadir}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--socket=${socket}`,
    `--pid-file=${join(base, 'mysqld.pid')}`,
    `--log-error=${logFile}`,
    `--tmpdir=${base}`,
    ...binlogArgs,
    '--server-id=1',
    '--skip-name-resolve',
    ...(options.extraArgs ?? []),
  ];
  const launch = async (): Promise<ChildProcess> => {
    const proc = spawn(mariadbd, args, { stdio: 'ignore' });
    try {
      await waitForReady(socket, proc, logFile);
    } catch (e) {
      proc.kill('SIGKILL');
      throw e;
    }
    return proc;
  };
  let child: ChildProcess;
  try {
    child = await launch();
  } catch (e) {
    await rm(base, { recursive: true, force: true });
    throw e;
  }
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const user = 'cdc';
  const password = 'cdc-test-pw';
  const root = await mysql.createConnection({ socketPath: socket, user: 'root' });
  await root.query(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY '${password}'`);
  await root.query(`GRANT SELECT, RELOAD, REPLICATION SLAVE, BINLOG MONITOR, SHOW DATABASES ON *.* TO '${user}'@'127.0.0.1'`);
  await root.end();

  let stopped = false;
  return {
    host: '127.0.0.1',
    port,
    socket,
    datadir,
    user,
    password,
    rootConfig: () => ({ socketPath: socket, user: 'root' }),
    cdcConfig: () => ({ host: '127.0.0.1', port, user, password }),
    async restart(opts = {}) {
      if (stopped) throw new Error('restart() after stop()');
      await halt(opts.kill ? 'SIGKILL' : 'SIGTERM');
      child = await launch();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt('SIGTERM');
      await rm(base, { recursive: true, force: true });
    },
  };
}
