#!/usr/bin/env node
/**
 * Browser tests drive Debian's Chromium through playwright-core. Install it with apt when it is
 * missing and we are root (CI machines); otherwise say how. Prints the executable path found.
 * Never downloads browsers from anywhere else.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CANDIDATES = [process.env.GROKSCOPE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter(Boolean);
const found = () => CANDIDATES.find((p) => existsSync(p));

/** apt-get as root, or through passwordless sudo; null when neither is possible. */
function aptRunner() {
  if (spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status !== 0) return null;
  if (process.getuid?.() === 0) return (args, opts) => spawnSync('apt-get', args, opts);
  if (spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0) return (args, opts) => spawnSync('sudo', ['-n', '-E', 'apt-get', ...args], opts);
  return null;
}

if (!found()) {
  const apt = aptRunner();
  if (apt) {
    process.stderr.write('installing Debian chromium for the browser tests (once)…\n');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = () => apt(['install', '-y', '--no-install-recommends', 'chromium'], { stdio: ['ignore', 'ignore', 'inherit'], env, timeout: 900_000 }).status === 0;
    if (!install()) {
      apt(['update'], { stdio: 'ignore', env, timeout: 600_000 });
      install();
    }
  }
}
const exe = found();
if (!exe) {
  process.stderr.write('no Chromium found: install Debian\'s chromium package (or set GROKSCOPE_CHROMIUM); the browser tests need it\n');
  process.exit(1);
}
process.stderr.write(`browser tests use ${exe}\n`);
