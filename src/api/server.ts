import { randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
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
import { AppError, ErrorCode } from '../domain/common/errors';
import type { Logger } from '../util/logger';
import { bearerSecret } from './auth-header';
import { RequestContext } from './context';
import { createErrorFormatter, graphQLError } from './errors';
import { armorProtection, queryCostPlugin } from './limits';
import { requestLifecyclePlugin } from './plugins';
import { RateLimiter } from './rate-limiter';
import { buildSchema } from './schema';
import { loadConfig } from '../config';
import { queueForPack } from '../jobs/queue';
import { Generation, createGeneration } from '../generation';
import { imageRoute } from './image-route';
import { Services, createServices } from './services';
import { attachGraphqlWs } from './ws-server';

export interface ApiServer {
  httpServer: Server;
  schema: GraphQLSchema;
  services: Services;
  /** The queue, packs, image store and URL signer the API uses. */
  generation: Generation;
  /** Resolves once listening; returns the bound port. */
  listen(port: number, host?: string): Promise<number>;
  /** Stops taking requests, drains HTTP and WebSocket clients. The pool is the caller's. */
  stop(): Promise<void>;
}

export type ApiConfig = Pick<Config, 'platformKey' | 'maxBodyBytes' | 'rateLimitPerMinute' | 'maxQueryCost'> & {
  /** Unset: from the environment (STORYFORGE_WEBHOOK*). */
  webhooks?: WebhookSettings;
  /** How often open graphql-ws connections check their key again (default 60 s). */
  wsKeyRecheckMs?: number;
};

/**
 * One http.Server hosts GraphQL over HTTP (/graphql), graphql-ws on the same path, and the
 * health routes. Apollo runs with its landing page off (no CDN), CSRF prevention on, batching off.
 */
export async function createApiServer(config: ApiConfig, dataSource: DataSource, log: Logger, given?: Generation): Promise<ApiServer> {
  const schema = buildSchema();
  // Without one given (tests, benches), the server makes its own from the environment and stops its queue itself.
  const generation = given ?? createGeneration(loadConfig(), (dataSource.options as { url: string }).url, log);
  await generation.queue.ensureQueues(generation.packs.names.map(queueForPack));
  const live = new LiveEvents(listenerConnection(dataSource), log.child({ component: 'events' }));
  const hooks = config.webhooks ?? webhookSettings(loadConfig());
  let box: SecretBox | undefined;
  const secretBox = () => (box ??= new SecretBox(hooks.key()));
  const dispatcher = new WebhookDispatcher({
    dataSource, connection: listenerConnection(dataSource), box: secretBox, settings: hooks, log: log.child({ component: 'webhooks' }),
  });
  live.onChannel(WEBHOOKS_CHANNEL, () => dispatcher.wake());
  const webhooks = new WebhookService({ box: secretBox, allowPrivate: hooks.allowPrivate, maxPerProject: 20 });
  const services = createServices(generation, dataSource, config.platformKey, live, webhooks);
  const limiter = new RateLimiter(config.rateLimitPerMinute);
  const app = express();
  app.disable('x-powered-by');
  const httpServer = createServer(app);
  let stopping = false;

  async function contextFor(authorization: string | undefined, idempotencyKey?: string): Promise<RequestContext> {
    const requestId = randomUUID();
    const secret = bearerSecret(authorization);
    let principal = null;
    if (secret !== undefined) {
      try {
        principal = await services.auth.authenticate(secret);
      } catch (error) {
        if (error instanceof AppError) throw graphQLError(error.code, error.message, 401);
        throw error;
      }
      const bucket = principal.kind === 'key' ? principal.keyId : 'platform';
      if (!limiter.take(bucket)) throw graphQLError(ErrorCode.RATE_LIMITED, 'too many requests for this key; slow down', 429);
    }
    return new RequestContext(requestId, principal, services, log.child({ requestId }), dataSource, idempotencyKey);
  }

  const armor = armorProtection();
  const ws = attachGraphqlWs(httpServer, {
    schema, contextFor, validationRules: armor.validationRules, maxQueryCost: config.maxQueryCost, log,
    authenticate: async (authorization) => services.auth.authenticate(bearerSecret(authorization) ?? ''),
    keyRecheckMs: config.wsKeyRecheckMs ?? 60_000,
  });
  const apollo = new ApolloServer<RequestContext>({
    schema,
    ...armor,
    plugins: [
      ...armor.plugins,
      ApolloServerPluginLandingPageDisabled(),
      // No cache hints are used; the plugin would otherwise run on every resolved field.
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginDrainHttpServer({ httpServer }),
      { async serverWillStart() { return { async drainServer() { await ws.dispose(); await dispatcher.stop(); await live.stop(); } }; } },
      queryCostPlugin(schema, config.maxQueryCost),
      requestLifecyclePlugin(),
    ],
    formatError: createErrorFormatter(log),
    includeStacktraceInErrorResponses: false,
    // Shutdown is ours (drain, then close the pool, then stop embedded PostgreSQL).
    stopOnTerminationSignals: false,
    introspection: process.env.NODE_ENV !== 'production',
  });
  await apollo.start();
  // Listening before the server takes its first subscription.
  await live.start();
  dispatcher.start();

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
  app.use(
    '/graphql',
    express.json({ limit: config.maxBodyBytes }),
    expressMiddleware(apollo, { context: async ({ req }) => contextFor(req.headers.authorization, req.get('idempotency-key')) }),
  );
  // Body-parser failures (too large, malformed JSON) answered as GraphQL-shaped JSON.
  app.use((error: { status?: number; type?: string; message?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (!error?.status || error.status >= 500) return next(error);
    const message = error.type === 'entity.too.large' ? `request body is larger than ${config.maxBodyBytes} bytes` : 'malformed request body';
    res.status(error.status).json({ errors: [{ message, extensions: { code: ErrorCode.BAD_USER_INPUT } }] });
  });

  return {
    httpServer,
    schema,
    services,
    generation,
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
  };
}
