// Debian's Chromium driven by playwright-core (no browser download): installed with apt when missing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function apt(args: string[]): boolean {
  const asRoot = process.getuid?.() === 0;
  const cmd = asRoot ? 'apt-get' : 'sudo';
  const argv = asRoot ? args : ['-n', 'apt-get', ...args];
  return spawnSync(cmd, argv, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
}

export function ensureChromium(): string {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (!apt(['install', '-y', '--no-install-recommends', 'chromium'])) {
    apt(['update']);
    if (!apt(['install', '-y', '--no-install-recommends', 'chromium'])) throw new Error('could not install chromium with apt-get');
  }
  if (!existsSync(CHROMIUM)) throw new Error(`chromium is not at ${CHROMIUM} after installing it`);
  return CHROMIUM;
}

export function launchChromium(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: ensureChromium(), headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}
