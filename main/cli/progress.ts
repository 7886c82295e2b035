import type { LiveEvent } from '../../core/api.js';

/** What the bar shows: the service's progress event of a run. */
export type RunProgressEvent = Extract<LiveEvent, { type: 'run-progress' }>;

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

export function progressLine(p: RunProgressEvent, probe: string, width = 24): string {
  const frac = p.totalSteps > 0 ? Math.min(1, p.step / p.totalSteps) : 0;
  const filled = Math.round(frac * width);
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  const parts = [`${bar} ${String(p.step).padStart(String(p.totalSteps).length)}/${p.totalSteps}`];
  const r = p.latest;
  if (r) {
    parts.push(`loss ${r.train_loss.toFixed(3)}/${r.test_loss.toFixed(3)}`);
    parts.push(`acc ${(r.train_acc * 100).toFixed(1)}%/${(r.test_acc * 100).toFixed(1)}%`);
    const h = r.entropy[probe];
    if (h !== undefined) parts.push(`H̃ ${h.toFixed(3)}`);
  }
  if (p.stepsPerSecond) parts.push(`${p.stepsPerSecond.toFixed(1)} step/s`);
  if (p.etaSeconds !== null) parts.push(`ETA ${formatDuration(p.etaSeconds)}`);
  if (p.backend) parts.push(p.backend);
  return parts.join('  ');
}

export class ProgressBar {
  private lastDraw = 0;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(private readonly probe: string, private readonly enabled = true) {}

  update(p: RunProgressEvent, prefix = ''): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < (this.tty ? 100 : 5000)) return;
    this.lastDraw = now;
    const line = prefix + progressLine(p, this.probe);
    if (this.tty) process.stderr.write(`\r\x1b[2K${line}`);
    else process.stderr.write(`${line}\n`);
  }

  /** A line of its own above the bar (an alert): always shown, even when the bar is off. */
  note(line: string): void {
    process.stderr.write(this.tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
    this.lastDraw = 0; // redraw the bar at the next update
  }

  finish(p: RunProgressEvent | null, prefix = ''): void {
    if (!this.enabled) return;
    if (p) {
      const line = prefix + progressLine(p, this.probe);
      process.stderr.write(this.tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
    } else if (this.tty) process.stderr.write('\n');
  }
}

/**
 * The bar of a run group (`run --seeds`): how many runs have ended, then the bar of the least
 * advanced run still training (the group's ETA is its ETA).
 */
export class GroupProgressBar {
  private readonly latest = new Map<string, RunProgressEvent>();
  private readonly ended = new Set<string>();
  private readonly bar: ProgressBar;

  constructor(private readonly size: number, probe: string, enabled = true) {
    this.bar = new ProgressBar(probe, enabled);
  }

  note(line: string): void {
    this.bar.note(line);
  }

  update(p: RunProgressEvent): void {
    this.latest.set(p.id, p);
    const slowest = this.slowest();
    if (slowest) this.bar.update(slowest, this.prefix());
  }

  end(id: string): void {
    this.ended.add(id);
  }

  finish(): void {
    const all = [...this.latest.values()];
    this.bar.finish(all.length ? all.reduce((a, b) => (b.step < a.step ? b : a)) : null, this.prefix());
  }

  private prefix(): string {
    return `${this.size} runs, ${this.ended.size} ended · `;
  }

  private slowest(): RunProgressEvent | null {
    let out: RunProgressEvent | null = null;
    for (const [id, p] of this.latest) if (!this.ended.has(id) && (!out || p.step < out.step)) out = p;
    return out;
  }
}
