import { spawnSync } from 'node:child_process';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium, driven by playwright-core (never a downloaded browser). */
export async function launchChromium(): Promise<Browser> {
  const which = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' });
  const executablePath = which.stdout.trim();
  if (which.status !== 0 || !executablePath) throw new Error('chromium not found: install the Debian package chromium (apt-get install -y chromium)');
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
