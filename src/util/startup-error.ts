/**
 * A refusal to start whose message already says what is wrong and what to do about it (a
 * machine that cannot do what its configuration asks). The entry points print such an error as
 * its message alone, one line on stderr, and exit 1: no log record, no stack.
 */
export class StartupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message.replace(/\s*\n\s*/g, ' ').trim(), options);
    this.name = 'StartupError';
  }
}
