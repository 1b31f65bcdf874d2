export { ModelSession } from './model-session';
export { Runtime } from './runtime';
export { DEFAULT_RUNTIME, runtimeConfig, parseProviders } from './runtime-config';
export { FeedError, checkFeeds, describeFeeds, describeSpec } from './io-spec';
export type { OpenOptions, RunOptions } from './model-session';
export type { RuntimeConfig, ExecutionProvider } from './runtime-config';
export type { IoSpec, Dim } from './io-spec';
