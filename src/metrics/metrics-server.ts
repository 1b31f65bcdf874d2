/**
 * Where /metrics is served, and how a scrape is answered. Operation names, queue depths and pool
 * sizes are not for the public, so an API process serves /metrics on its API port only behind
 * STORYFORGE_METRICS_TOKEN; with STORYFORGE_METRICS_PORT it serves them on a plain HTTP server of
 * their own instead (behind the token too, when one is set); with neither, not at all.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import type { Config } from '../config';
import type { Logger } from '../util/logger';
import type { Metrics } from './registry';

export type MetricsAccess = Partial<Pick<Config, 'metricsToken' | 'metricsPort'>>;

/** 'api': on the API port (token required); 'own-port': on STORYFORGE_METRICS_PORT; 'off': nowhere. */
export function metricsPlacement(access: MetricsAccess): 'api' | 'own-port' | 'off' {
  if (access.metricsPort !== undefined) return 'own-port';
  return access.metricsToken ? 'api' : 'off';
}

/** Answers one scrape: 401 without the right `Authorization: Bearer <token>` when a token is set. */
export async function answerScrape(req: IncomingMessage, res: ServerResponse, metrics: Metrics, token: string | undefined, log: Logger): Promise<void> {
  if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
    res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="metrics"' });
    res.end('unauthorized\n');
    return;
  }
  try {
    const text = await metrics.scrape();
    res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : text);
  } catch (error) {
    log.warn('metrics scrape failed', { error });
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('metrics unavailable\n');
  }
}

/** Compared as SHA-256 digests, in constant time whatever the lengths. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(match[1]!), digest(token));
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** A plain HTTP server answering GET /metrics and nothing else (404). */
export async function startMetricsServer(metrics: Metrics, options: { port: number; host?: string; token?: string }, log: Logger): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
    } else {
      void answerScrape(req, res, metrics, options.token, log);
    }
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : options.port);
    });
  });
  log.info('metrics listening', { port, path: '/metrics', token: options.token !== undefined });
  return {
    port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
