import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestContext } from './context';

/**
 * Ends each request's database transaction once the response is ready, and logs the request
 * (never its variables or response: they can hold secrets). A failed commit replaces the
 * response, so a client never hears of a write that did not happen.
 */
export function requestLifecyclePlugin(): ApolloServerPlugin<RequestContext> {
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
          ctx.log.info('graphql request', {
            operationName: operationName ?? null,
            durationMs: Number(process.hrtime.bigint() - started) / 1e6,
            projectId: principal?.kind === 'key' ? principal.projectId : null,
            keyId: principal?.kind === 'key' ? principal.keyId : null,
            platform: principal?.kind === 'platform',
            errorCodes: errors?.map((e) => e.extensions?.code ?? 'UNKNOWN') ?? [],
          });
        },
      };
    },
  };
}
