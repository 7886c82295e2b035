import type { RunProgress } from '../../core/runs/run-executor.js';

/**
 * A one-line progress bar on stderr: step, losses, accuracies, H̃ of the run's probe, step rate
 * and ETA. Redrawn in place on a terminal; on a pipe, one line every few seconds.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

export function progressLine(p: RunProgress, probe: string, width = 24): string {
  const frac = p.totalSteps > 0 ? Math.min(1, p.step / p.totalSteps) : 0;
  const filled = Math.round(frac * width);
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  const parts = [`${bar} ${String(p.step).padStart(String(p.totalSteps).length)}/${p.totalSteps}`];
  const r = p.latest;
  if (r) {
    parts.push(`loss ${r.trainLoss.toFixed(3)}/${r.testLoss.toFixed(3)}`);
    parts.push(`acc ${(r.trainAcc * 100).toFixed(1)}%/${(r.testAcc * 100).toFixed(1)}%`);
    const h = r.probes[probe as keyof typeof r.probes]?.entropy;
    if (h !== undefined) parts.push(`H̃ ${h.toFixed(3)}`);
  }
  if (p.stepsPerSecond) {
    parts.push(`${p.stepsPerSecond.toFixed(1)} step/s`);
    parts.push(`ETA ${formatDuration((p.totalSteps - p.step) / p.stepsPerSecond)}`);
  }
  if (p.backend) parts.push(p.backend);
  return parts.join('  ');
}

export class ProgressBar {
  private lastDraw = 0;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(private readonly probe: string, private readonly enabled = true) {}

  update(p: RunProgress): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < (this.tty ? 100 : 5000)) return;
    this.lastDraw = now;
    const line = progressLine(p, this.probe);
    if (this.tty) process.stderr.write(`\r\x1b[2K${line}`);
    else process.stderr.write(`${line}\n`);
  }

  finish(p: RunProgress | null): void {
    if (!this.enabled) return;
    if (p) {
      const line = progressLine(p, this.probe);
      process.stderr.write(this.tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
    } else if (this.tty) process.stderr.write('\n');
  }
}
