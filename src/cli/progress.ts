/**
 * Progress of a long command: a bar redrawn in place on a terminal, plain lines otherwise
 * (logs and pipes get a readable record instead of carriage returns). Goes to stderr so
 * stdout stays for results.
 *
 * A phase is named by its label ("identity bank of Mira (1/2)", "render"); its bar never goes
 * backwards (a later report of less is drawn at the most reached so far), and a detail says
 * where in the phase it is ("step 8/20", "frames 5-8/10, step 3/4").
 */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export class ProgressReporter {
  private label = '';
  private best = 0;
  private lastQuarter = -1;
  private drawn = false;
  private ended = false;

  constructor(private readonly stream: ProgressStream) {}

  get interactive(): boolean {
    return this.stream.isTTY === true;
  }

  /** `done` of `total` `unit`s of the phase `label`. */
  update(label: string, done: number, total: number, unit: string): void {
    this.phase(label, total > 0 ? done / total : 1, `${done}/${total} ${unit}`);
  }

  /** The phase `label` is `fraction` done (0..1); `detail` says where. */
  phase(label: string, fraction: number, detail: string): void {
    if (label !== this.label) {
      this.finishLine();
      this.label = label;
      this.best = 0;
      this.lastQuarter = -1;
      this.ended = false;
    }
    const f = Math.max(this.best, Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 1)));
    this.best = f;
    const percent = Math.floor(f * 100);
    if (this.interactive) {
      if (this.ended) return;
      const width = Math.max(10, Math.min(40, (this.stream.columns || 80) - label.length - detail.length - 8));
      const filled = Math.floor(f * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      this.stream.write(`\r\x1b[2K${label} ${bar} ${String(percent).padStart(3)}% ${detail}`);
      this.drawn = true;
      if (f >= 1) {
        this.finishLine();
        this.ended = true;
      }
      return;
    }
    // Plain: a line when a phase starts, at every new quarter, and once when it ends.
    if (this.ended) return;
    const quarter = Math.floor(f * 4);
    if (quarter === this.lastQuarter && f < 1) return;
    this.lastQuarter = quarter;
    if (f >= 1) this.ended = true;
    this.stream.write(`${label}: ${detail} (${percent}%)\n`);
  }

  /** A message between bars (the bar's line is ended first). */
  note(text: string): void {
    this.finishLine();
    this.stream.write(text + '\n');
  }

  finishLine(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
