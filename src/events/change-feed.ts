/**
 * An async iterator that yields once per batch of changes: changes that arrive while the consumer
 * is busy collapse into one. Subscribers re-read the current state on each tick, so a fast job
 * (a progress event per step) costs a slow client one read per message it can take, never a
 * growing buffer. Starts with one tick when `initial` is set (the client's first message is the
 * current state, so it cannot miss a change made before it subscribed).
 */
export class ChangeFeed implements AsyncIterableIterator<void> {
  private pending: boolean;
  private done = false;
  private waiter: ((result: IteratorResult<void>) => void) | undefined;
  private unwatch: (() => void) | undefined;

  constructor(watch: (changed: () => void) => () => void, options: { initial?: boolean } = {}) {
    this.pending = options.initial ?? false;
    this.unwatch = watch(() => this.changed());
  }

  private changed(): void {
    if (this.done) return;
    if (this.waiter) {
      const resolve = this.waiter;
      this.waiter = undefined;
      resolve({ value: undefined, done: false });
    } else {
      this.pending = true;
    }
  }

  next(): Promise<IteratorResult<void>> {
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    if (this.pending) {
      this.pending = false;
      return Promise.resolve({ value: undefined, done: false });
    }
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Stops watching; a pending `next()` ends. */
  return(): Promise<IteratorResult<void>> {
    if (!this.done) {
      this.done = true;
      this.unwatch?.();
      this.unwatch = undefined;
      const resolve = this.waiter;
      this.waiter = undefined;
      resolve?.({ value: undefined, done: true });
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<void> {
    return this;
  }
}
