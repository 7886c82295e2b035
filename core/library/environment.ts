import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { versions } from '../versions.js';

/** The machine a bundle was made on: enough to say why another machine's numbers may differ. */
export interface Environment {
  os: { platform: string; type: string; release: string; arch: string };
  cpu: { model: string; cores: number };
  memoryGiB: number;
  /** NVIDIA GPUs as nvidia-smi reports them; empty when there is none (or no driver). */
  gpus: { name: string; driver: string; memoryMiB: number | null }[];
  versions: Record<string, string>;
}

/**
 * nvidia-smi in a child process with a timeout: a missing or hung driver must never hang an export.
 */
function nvidiaGpus(): Environment['gpus'] {
  try {
    const r = spawnSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader,nounits'], { timeout: 5000, encoding: 'utf8' });
    if (r.status !== 0 || !r.stdout) return [];
    return r.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [name, driver, mem] = line.split(',').map((s) => s.trim());
        const memoryMiB = Number(mem);
        return { name, driver, memoryMiB: Number.isFinite(memoryMiB) ? memoryMiB : null };
      });
  } catch {
    return [];
  }
}

export function collectEnvironment(): Environment {
  const cpus = os.cpus();
  return {
    os: { platform: process.platform, type: os.type(), release: os.release(), arch: process.arch },
    cpu: { model: cpus[0]?.model ?? 'unknown', cores: cpus.length },
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    gpus: nvidiaGpus(),
    versions: versions(),
  };
}
