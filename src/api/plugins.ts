import type { ApolloServerPlugin } from '@apollo/server';
import type { Metrics } from '../metrics/registry';
import type { RequestContext } from './context';
import { namesLegacyJson } from './media-type';

/**
 * Ends each request's database transaction once the response is ready, and logs the request
 * (never its variables or response: they can hold secrets). A failed commit replaces the
 * response, so a client never hears of a write that did not happen. Its duration and outcome go
 * to the metrics too.
 */
export function requestLifecyclePlugin(metrics: Metrics): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ contextValue: ctx, response, operationName }) {
          try {
            await ctx.finish(true);
          } catch (error) {
            ctx.log.error('commit failed', { error });
            response.body = {
              kind: 'single',
              singleResult: { data: null, errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] },
            };
          }
          const principal = ctx.principal;
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
          const errorCodes = errors?.map((e) => e.extensions?.code ?? 'UNKNOWN') ?? [];
          metrics.graphqlRequest(operationName, errorCodes, durationMs / 1000);
          ctx.log.info('graphql request', {
            operationName: operationName ?? null,
            durationMs,
            projectId: principal?.kind === 'key' ? principal.projectId : null,
            keyId: principal?.kind === 'key' ? principal.keyId : null,
            platform: principal?.kind === 'platform',
            errorCodes,
          });
        },
      };
    },
  };
}

/**
 * A request refused before it ran (it did not parse or validate, its variables did not fit, a
 * limit refused it) is answered 400 with its errors' codes, except to a client that asked for
 * application/json by name: the GraphQL-over-HTTP spec asks for 200 there, since such clients
 * predate application/graphql-response+json and may not read a 4xx body. The codes are the same.
 */
export function legacyJsonStatusPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart({ request }) {
      if (!namesLegacyJson(request.http?.headers.get('accept'))) return;
      return {
        async willSendResponse({ response }) {
          const refused = response.body.kind === 'single' && !('data' in response.body.singleResult);
          if (refused && response.http.status === 400) response.http.status = 200;
        },
      };
    },
  };
}
