import { IncomingHttpHeaders, Server, createServer } from 'node:http';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A real local HTTP receiver for webhooks. Answers each request with the next status of `plan`
 * (then `fallback`); a status of 0 holds the request open until `release()`.
 */
export class WebhookReceiver {
  readonly requests: Received[] = [];
  private readonly waiters: ((r: Received) => void)[] = [];
  private taken = 0;
  private readonly held: (() => void)[] = [];
  private plan: number[] = [];
  private server: Server | undefined;
  url = '';

  constructor(private fallback = 204) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const received = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.requests.push(received);
        this.waiters.shift()?.(received);
        const status = this.plan.shift() ?? this.fallback;
        const answer = (code: number) => res.writeHead(code, { 'content-type': 'text/plain' }).end('ok');
        if (status === 0) this.held.push(() => answer(200));
        else answer(status);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${address.port}/hooks`;
    return this;
  }

  /** The statuses of the next requests, in order. */
  respondWith(...statuses: number[]): void {
    this.plan.push(...statuses);
  }

  /** The next request not yet taken (waits for it). */
  next(): Promise<Received> {
    const index = this.taken++;
    if (index < this.requests.length) return Promise.resolve(this.requests[index]);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    this.held.splice(0).forEach((answer) => answer());
  }

  async stop(): Promise<void> {
    this.release();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Polls `check` until it returns a value other than undefined (the test's own timeout bounds it). */
export async function eventually<T>(check: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
