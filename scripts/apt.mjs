/**
 * apt-get for the project's setup scripts: as root, or through passwordless sudo; null where
 * neither works (not Debian, or no rights), so callers can say what to install by hand.
 * Every call is non-interactive and bounded in time.
 */
import { spawnSync } from 'node:child_process';

export function aptGet() {
  if (process.platform !== 'linux' || spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status !== 0) return null;
  const root = process.getuid?.() === 0;
  if (!root && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status !== 0) return null;
  const [cmd, pre] = root ? ['apt-get', []] : ['sudo', ['-n', '-E', 'apt-get']];
  /** Runs apt-get with these arguments; true when it succeeded. */
  return (args, { timeoutMs = 900_000, quiet = true } = {}) =>
    spawnSync(cmd, [...pre, ...args], {
      stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'inherit'],
      timeout: timeoutMs,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    }).status === 0;
}

/** Installs packages, refreshing the package lists once if the first attempt fails. */
export function aptInstall(apt, packages, extra = []) {
  const install = () => apt(['install', '-y', '--no-install-recommends', ...extra, ...packages]);
  return install() || (apt(['update']) && install());
}

/**
 * A tool the tests need: when `present()` is false, install `packages` with apt where we may
 * (saying so); if it is still missing, print `howTo` (what to install by hand) and exit 1.
 */
export function ensureWithApt(present, packages, purpose, howTo) {
  if (!present()) {
    const apt = aptGet();
    if (apt) {
      process.stderr.write(`installing Debian ${packages.join(' ')} for ${purpose} (once)…\n`);
      aptInstall(apt, packages);
    }
  }
  if (!present()) {
    process.stderr.write(`${howTo}\n`);
    process.exit(1);
  }
}
