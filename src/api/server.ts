import { randomUUID } from 'node:crypto';
import { IncomingMessage, createServer, Server } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express, { NextFunction, Request, Response } from 'express';
import type { GraphQLSchema } from 'graphql';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import { LiveEvents, listenerConnection } from '../events/live-events';
import { WebhookService } from '../domain/webhooks/webhook.service';
import { WebhookDispatcher } from '../webhooks/dispatcher';
import { WEBHOOKS_CHANNEL } from '../webhooks/outbox';
import { SecretBox } from '../webhooks/secret-box';
import { WebhookSettings, webhookSettings } from '../webhooks/webhook-settings';
import { ErrorCode } from '../domain/common/errors';
import type { Logger } from '../util/logger';
import { Admission } from './admission';
import { bearerSecret } from './auth-header';
import { clientAddress } from './client-address';
import { publicOrigin } from './public-origin';
import { RequestContext } from './context';
import { createErrorFormatter } from './errors';
import { operationRules } from './limits';
import { operationChecksPlugin } from './operation-checks';
import { legacyJsonStatusPlugin, requestLifecyclePlugin } from './plugins';
import { buildSchema } from './schema';
import { loadConfig } from '../config';
import { queueForPack } from '../queue/queue';
import { Generation, createGeneration } from '../generation';
import { startUnservedJobSweeper } from '../domain/jobs/unserved-jobs';
import { imageRoute, pageRoute } from './image-route';
import { uploadRoute } from './upload-route';
import { graphiqlRouter } from './graphiql/graphiql-route';
import { studioRouter } from './studio/studio-route';
import { Services, createServices } from './services';
import { WsCounts, attachGraphqlWs } from './ws-server';
import { Metrics } from '../metrics/registry';
import { MetricsAccess, answerScrape, metricsPlacement } from '../metrics/metrics-server';

export interface ApiServer {
  httpServer: Server;
  schema: GraphQLSchema;
  services: Services;
  /** The queue, packs, image store and URL signer the API uses. */
  generation: Generation;
  /** This server's metrics (given, or its own); workers of the same process record into them too. */
  metrics: Metrics;
  /** Resolves once listening; returns the bound port. */
  listen(port: number, host?: string): Promise<number>;
  /** Stops taking requests, drains HTTP and WebSocket clients. The pool is the caller's. */
  stop(): Promise<void>;
  /** Open sockets and their operations, and the change watchers behind them (all back to 0 once clients leave). */
  liveCounts(): LiveCounts;
}

export interface LiveCounts extends WsCounts {
  /** Watchers of the event hub: one per running subscription and one per open socket (its key). */
  watchers: number;
}

export type ApiConfig = Pick<Config, 'platformKey' | 'maxBodyBytes' | 'rateLimitPerMinute' | 'maxQueryCost'>
  & Partial<Pick<Config, 'addressRateLimitPerMinute' | 'trustedProxies' | 'introspection' | 'graphiql' | 'publicUrl'>> & MetricsAccess & {
  /** Unset: from the environment (STORYFORGE_WEBHOOK*). */
  webhooks?: WebhookSettings;
  /** How often open graphql-ws connections read their key again, besides hearing of its revocation (default 60 s). */
  wsKeyRecheckMs?: number;
  /** The process's metrics; unset: the server makes its own. */
  metrics?: Metrics;
};

/**
 * One http.Server hosts GraphQL over HTTP (/graphql), graphql-ws on the same path, and the
 * health routes. Apollo runs with its landing page off (no CDN), CSRF prevention on, batching off.
 */
export async function createApiServer(config: ApiConfig, dataSource: DataSource, log: Logger, given?: Generation): Promise<ApiServer> {
  const schema = buildSchema();
  // Without one given (tests, benches), the server makes its own from the environment and stops its queue itself.
  const generation = given ?? createGeneration(loadConfig(), (dataSource.options as { url: string }).url, log);
  const metrics = config.metrics ?? new Metrics(dataSource, log);
  await generation.queue.ensureQueues(generation.packs.names.map(queueForPack));
  const live = new LiveEvents(listenerConnection(dataSource), log.child({ component: 'events' }));
  const hooks = config.webhooks ?? webhookSettings(loadConfig());
  let box: SecretBox | undefined;
  const secretBox = () => (box ??= new SecretBox(hooks.key()));
  const dispatcher = new WebhookDispatcher({
    dataSource, connection: listenerConnection(dataSource), box: secretBox, settings: hooks, metrics, log: log.child({ component: 'webhooks' }),
  });
  live.onChannel(WEBHOOKS_CHANNEL, () => dispatcher.wake());
  const webhooks = new WebhookService({ box: secretBox, allowPrivate: hooks.allowPrivate, maxPerProject: 20 });
  const services = createServices(generation, dataSource, config.platformKey, live, webhooks);
  const admission = new Admission(services.auth, {
    perKeyPerMinute: config.rateLimitPerMinute, perAddressPerMinute: config.addressRateLimitPerMinute ?? 60,
  });
  const trustedProxies = config.trustedProxies ?? 0;
  const introspection = config.introspection ?? process.env.NODE_ENV !== 'production';
  let unserved: { stop(): Promise<void> } | undefined;
  const app = express();
  app.disable('x-powered-by');
  const httpServer = createServer(app);
  let stopping = false;

  async function contextFor(request: IncomingMessage, authorization: string | undefined, idempotencyKey?: string): Promise<RequestContext> {
    const requestId = randomUUID();
    const principal = await admission.admit(authorization, clientAddress(request, trustedProxies));
    return new RequestContext(requestId, principal, services, log.child({ requestId }), dataSource, idempotencyKey,
      publicOrigin(request, trustedProxies, config.publicUrl));
  }

  // One set of rules for both transports: what HTTP refuses, graphql-ws refuses alike.
  const rules = operationRules({ introspection });
  const ws = attachGraphqlWs(httpServer, {
    schema, rules, contextFor, maxQueryCost: config.maxQueryCost, log,
    authenticate: async (authorization) => services.auth.authenticate(bearerSecret(authorization) ?? ''),
    watchKey: (keyId, projectId, changed) => live.hub.watch('key', keyId, projectId, changed),
    keyRecheckMs: config.wsKeyRecheckMs ?? 60_000,
    maxMessageBytes: config.maxBodyBytes,
  });
  const apollo = new ApolloServer<RequestContext>({
    schema,
    parseOptions: rules.parseOptions,
    validationRules: rules.validationRules,
    allowBatchedHttpRequests: false,
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      // No cache hints are used; the plugin would otherwise run on every resolved field.
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginDrainHttpServer({ httpServer }),
      { async serverWillStart() { return { async drainServer() { await ws.dispose(); await dispatcher.stop(); await unserved?.stop(); await live.stop(); } }; } },
      operationChecksPlugin(schema, config.maxQueryCost),
      legacyJsonStatusPlugin(),
      requestLifecyclePlugin(metrics),
    ],
    formatError: createErrorFormatter(log),
    includeStacktraceInErrorResponses: false,
    // Shutdown is ours (drain, then close the pool, then stop embedded PostgreSQL).
    stopOnTerminationSignals: false,
    // Refused (or not) by rules.validationRules, which graphql-ws shares; Apollo's own rule would report it twice.
    introspection: true,
  });
  await apollo.start();
  // Listening before the server takes its first subscription.
  await live.start();
  dispatcher.start();
  // Every API process: the jobs of a pack no worker serves fail instead of waiting forever.
  unserved = startUnservedJobSweeper({
    dataSource, queue: generation.queue, unservedSeconds: generation.unservedSeconds, heartbeatSeconds: generation.heartbeatSeconds,
    log: log.child({ component: 'unserved-jobs' }),
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    if (stopping) {
      res.status(503).json({ status: 'stopping' });
      return;
    }
    try {
      await dataSource.query('SELECT 1');
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json({ status: 'database unreachable' });
    }
  });
  app.get('/images/:projectId/:imageId', imageRoute(dataSource, generation.signer, generation.images, log));
  if (config.graphiql ?? loadConfig().graphiql) app.use('/graphiql', graphiqlRouter());
  app.get('/pages/:projectId/:pageId', pageRoute(dataSource, generation.signer, generation.images, log));
  app.post('/uploads', ...uploadRoute(services.uploads.limits.maxBytes,
    (req) => contextFor(req, req.headers.authorization), log));
  // Only behind a token here; with a metrics port of its own (app.ts), never on this one.
  if (metricsPlacement(config) === 'api') {
    app.get('/metrics', (req, res) => answerScrape(req, res, metrics, config.metricsToken, log));
  }
  app.use(
    '/graphql',
    refuseDeclaredOversize(config.maxBodyBytes),
    express.json({ limit: config.maxBodyBytes }),
    expressMiddleware(apollo, {
      context: async ({ req }) => contextFor(req, req.headers.authorization, req.get('idempotency-key')),
    }),
  );
  app.use(studioRouter({ images: generation.images, publicUrl: config.publicUrl }));
  // Body-parser failures (too large, malformed JSON) answered as GraphQL-shaped JSON.
  app.use((error: { status?: number; type?: string; message?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (!error?.status || error.status >= 500) return next(error);
    const message = error.type === 'entity.too.large' ? tooLarge(config.maxBodyBytes) : 'malformed request body';
    res.status(error.status).json({ errors: [{ message, extensions: { code: ErrorCode.BAD_USER_INPUT } }] });
  });

  return {
    httpServer,
    schema,
    services,
    generation,
    metrics,
    listen: (port, host) => new Promise((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(port, host, () => {
        const address = httpServer.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    }),
    stop: async () => {
      stopping = true;
      await apollo.stop();
      if (!given) await generation.queue.stop(1000);
    },
    liveCounts: () => ({ ...ws.counts(), watchers: live.hub.size }),
  };
}

const tooLarge = (maxBytes: number) => `request body is larger than ${maxBytes} bytes`;

/**
 * A body whose Content-Length is over the limit is refused at once and its connection closed.
 * body-parser reads a body to its end before answering 413 (to keep the connection usable), so a
 * client declaring a huge length and sending nothing held the connection and its request open
 * until the server's request timeout. Compressed bodies are left to body-parser: their limit is
 * on the inflated size.
 */
function refuseDeclaredOversize(maxBytes: number) {
  return (req: Request, res: Response, next: NextFunction) => {
    const declared = Number(req.headers['content-length']);
    const encoding = req.headers['content-encoding'];
    if (!(declared > maxBytes) || (encoding !== undefined && encoding.toLowerCase() !== 'identity')) return next();
    res.set('connection', 'close');
    res.status(413).json({ errors: [{ message: tooLarge(maxBytes), extensions: { code: ErrorCode.BAD_USER_INPUT } }] });
  };
}
