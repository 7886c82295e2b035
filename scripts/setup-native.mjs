#!/usr/bin/env node
/**
 * postinstall: make the fast CPU path available where we can, never fail the install.
 * Grokscope's `wasm+openblas` backend calls OpenBLAS's sgemm through koffi. On Debian/Ubuntu
 * running as root, install `libopenblas0-pthread` with apt when it is missing; elsewhere print
 * how to get it. Set GROKSCOPE_NO_NATIVE=1 to skip. Training falls back to plain `wasm` (and says
 * so in every run's backend note) when the library is absent.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { aptGet, aptInstall } from './apt.mjs';

const say = (msg) => process.stderr.write(`grokscope setup: ${msg}\n`);

function haveOpenBlas() {
  const r = spawnSync('ldconfig', ['-p'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status === 0 && /libopenblas\.so\.0/.test(r.stdout)) return true;
  return ['/usr/lib/x86_64-linux-gnu/libopenblas.so.0', '/usr/lib/aarch64-linux-gnu/libopenblas.so.0'].some((f) => existsSync(f));
}

try {
  if (process.env.GROKSCOPE_NO_NATIVE) {
    say('GROKSCOPE_NO_NATIVE set: not installing OpenBLAS');
  } else if (process.platform !== 'linux') {
    say('install OpenBLAS (e.g. `brew install openblas`) for the faster wasm+openblas backend; plain wasm works without it');
  } else if (haveOpenBlas()) {
    say('OpenBLAS found: the wasm+openblas backend is available');
  } else if (!aptGet()) {
    say('OpenBLAS not found; install libopenblas0-pthread (apt) for the faster wasm+openblas backend; plain wasm works without it');
  } else {
    const ok = aptInstall(aptGet(), ['libopenblas0-pthread']);
    say(ok && haveOpenBlas() ? 'installed libopenblas0-pthread: the wasm+openblas backend is available' : 'could not install libopenblas0-pthread with apt; training will use plain wasm');
  }
} catch (err) {
  say(`skipped (${err instanceof Error ? err.message : String(err)})`);
}
