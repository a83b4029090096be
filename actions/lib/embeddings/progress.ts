import { formatSeconds } from '../format.ts';

/** A progress line at most every `everyMs`, with rows per second and the time left at that rate. */
export class Progress {
  private readonly started = performance.now();
  private lastLine = 0;
  private readonly total: number;
  private readonly name: string;
  private readonly log: (line: string) => void;
  private readonly everyMs: number;

  constructor(name: string, total: number, log: (line: string) => void, everyMs = 5_000) {
    this.name = name;
    this.total = total;
    this.log = log;
    this.everyMs = everyMs;
  }

  update(done: number, embedded: number, skipped: number, force = false): void {
    const now = performance.now();
    if (!force && now - this.lastLine < this.everyMs) return;
    this.lastLine = now;
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const percent = this.total > 0 ? Math.floor((100 * done) / this.total) : 100;
    const left = rate > 0 ? formatSeconds((this.total - done) / rate) : '—';
    this.log(
      `${this.name}: ${done} of ${this.total} rows (${percent}%): ${embedded} embedded, ${skipped} skipped · ` +
        `${rate.toFixed(0)} rows/s · ETA ${done >= this.total ? 'done' : left}`,
    );
  }
}
