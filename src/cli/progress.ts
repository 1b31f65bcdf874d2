/**
 * Progress of a long command: a bar redrawn in place on a terminal, plain lines otherwise
 * (logs and pipes get a readable record instead of carriage returns). Goes to stderr so
 * stdout stays for results.
 */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export class ProgressReporter {
  private label = '';
  private lastQuarter = -1;
  private drawn = false;

  constructor(private readonly stream: ProgressStream) {}

  get interactive(): boolean {
    return this.stream.isTTY === true;
  }

  update(label: string, done: number, total: number, unit: string): void {
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const counts = `${done}/${total} ${unit}`;
    if (this.interactive) {
      const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - label.length - counts.length - 12));
      const filled = Math.round(fraction * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      this.stream.write(`\r\x1b[2K${label} ${bar} ${String(Math.round(fraction * 100)).padStart(3)}% ${counts}`);
      this.drawn = true;
      if (done >= total) this.finishLine();
      return;
    }
    // Plain: a line when a phase starts, at every quarter, and when it ends.
    const quarter = Math.floor(fraction * 4);
    if (label !== this.label) this.lastQuarter = -1;
    this.label = label;
    if (quarter === this.lastQuarter && done < total) return;
    this.lastQuarter = quarter;
    this.stream.write(`${label}: ${counts} (${Math.round(fraction * 100)}%)\n`);
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
