import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT } from './fixtures';

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** Everything printed so far (stdout and stderr). */
  readonly output: string;
  stop(): Promise<void>;
}

/** Starts `bin/tidemark serve` as a user would and waits for the URL line it prints. */
export async function startServe(args: string[], command = 'serve', env: Record<string, string> = {}): Promise<ServeProcess> {
  const child = spawn(`${REPO_ROOT}/bin/tidemark`, [command, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tidemark ${command} printed no URL in 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tidemark ${command} exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    child,
    get output() {
      return output;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
