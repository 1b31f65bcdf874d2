import { Agent, request } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

export interface LoadRequest {
  url: string;
  key: string;
  body: string;
  concurrency: number;
  durationMs: number;
  /**
   * Requests per second, sent on a fixed schedule whatever the answers (an open loop, as many
   * independent users make); unset or 0: each client sends its next request when the last one
   * answered (a closed loop, which saturates the server). In an open loop a latency counts from
   * the request's scheduled time, so waiting for a free socket is part of it.
   */
  ratePerSecond?: number;
}

export interface LoadResult {
  latenciesMs: number[];
  errors: number;
  elapsedMs: number;
}

/** Runs in a worker thread, so the load's own CPU use does not share the server's event loop. */
async function run({ url, key, body, concurrency, durationMs, ratePerSecond }: LoadRequest): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(url);
  const latenciesMs: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + durationMs;

  const once = (t0 = performance.now()) => new Promise<void>((resolve) => {
    const req = request({
      agent, hostname: target.hostname, port: target.port, path: target.pathname, method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const ok = res.statusCode === 200 && !Buffer.concat(chunks).toString().includes('"errors"');
        if (ok) latenciesMs.push(performance.now() - t0);
        else errors++;
        resolve();
      });
    });
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end(body);
  });

  if (ratePerSecond) {
    const sent: Promise<void>[] = [];
    for (let k = 0; started + (k * 1000) / ratePerSecond < deadline; k++) {
      const at = started + (k * 1000) / ratePerSecond;
      const wait = at - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      sent.push(once(at));
    }
    await Promise.all(sent);
  } else {
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) await once();
    }));
  }
  agent.destroy();
  return { latenciesMs, errors, elapsedMs: performance.now() - started };
}

if (parentPort) {
  run(workerData as LoadRequest).then((result) => parentPort!.postMessage(result));
}
