import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ExecutionProvider, parseProviders } from './engine/runtime/runtime-config';
import { projectRoot } from './util/project-root';
import { StartupError } from './util/startup-error';

/** Everything the process reads from the environment, read once, in one place. */
export interface Config {
  /** Unset: an embedded PostgreSQL is started under `dataDir`. */
  databaseUrl: string | undefined;
  host: string;
  port: number;
  dataDir: string;
  /** Hash-compared; may create projects. Unset: no platform operations over the API. */
  platformKey: string | undefined;
  poolSize: number;
  logLevel: LogLevel;
  maxBodyBytes: number;
  /** Requests per minute per API key; 0 turns the limiter off. */
  rateLimitPerMinute: number;
  /** Per client address and minute: requests without a key, and failed key lookups (each its own budget); 0: off. */
  addressRateLimitPerMinute: number;
  /** Reverse proxies in front of the server that append to X-Forwarded-For; 0: the socket's peer is the client. */
  trustedProxies: number;
  /** Origin of the absolute image and page URLs in answers (STORYFORGE_PUBLIC_URL); unset: each request's own host. */
  publicUrl?: string;
  /** Off in production (NODE_ENV=production), over HTTP and graphql-ws alike. */
  introspection: boolean;
  /** `storyforge worker` lowers its scheduling priority to this nice value (0: leaves it as it is). */
  workerNice: number;
  /** GraphiQL at /graphiql: on in development, off in production unless STORYFORGE_GRAPHIQL=1 (0 turns it off anywhere). */
  graphiql: boolean;
  maxQueryCost: number;
  shutdownTimeoutMs: number;
  /** Compute threads (ONNX Runtime) in this process; 0: this process takes no generation jobs. */
  workers: number;
  /** ONNX Runtime intra-op threads of each compute thread. */
  ortThreads: number;
  /** Folder of model packs (each a folder with manifest.json). */
  modelsDir: string;
  /** The pack a story renders with when its creator names none. */
  defaultModel: string;
  /** ONNX Runtime execution providers of the compute threads, tried in order (cpu last as the fallback). */
  executionProviders: ExecutionProvider[];
  /** The GPU the compute threads use when `cuda` is among the providers. */
  cudaDeviceId: number;
  /** How often a worker process writes that it is alive (and which packs it serves). */
  workerHeartbeatSeconds: number;
  /** A queued job whose pack no live worker serves fails (NO_WORKER) after this long. */
  unservedJobSeconds: number;
  /** Queued + running generation jobs a project may have. */
  maxActiveJobs: number;
  /** Tries after the first; the delay doubles from `jobRetryDelaySeconds`. */
  jobRetries: number;
  jobRetryDelaySeconds: number;
  /** An attempt running longer (or whose process died) is failed and retried. */
  jobExpireSeconds: number;
  /** How often idle workers poll the queue, and how often expired attempts are collected. */
  queuePollSeconds: number;
  queueMaintenanceSeconds: number;
  /** Identity banks kept in memory (the disk cache under dataDir/banks is unbounded). */
  bankCacheBytes: number;
  /**
   * Images and identity banks in an S3-compatible bucket shared by every host (STORYFORGE_S3_BUCKET);
   * unset: files under dataDir/images and dataDir/banks.
   */
  s3: S3Config | undefined;
  /**
   * HMAC secret of image URLs (STORYFORGE_URL_SECRET, or the file STORYFORGE_URL_SECRET_FILE names);
   * unset: generated into dataDir/url-secret (never with S3: the config refuses).
   */
  urlSecret: string | undefined;
  urlTtlSeconds: number;
  /** A deleted image's file is removed after this long (its URL stops working at once). */
  imageDeleteGraceSeconds: number;
  /** An uploaded picture nothing uses (never given to a character, or let go) is deleted after this (STORYFORGE_UNUSED_UPLOAD_HOURS, default 24). */
  unusedUploadSeconds: number;
  /**
   * Seals webhook signing secrets (AES-256-GCM): STORYFORGE_WEBHOOK_KEY, or the file
   * STORYFORGE_WEBHOOK_KEY_FILE names; unset: generated into dataDir/webhook-key (never with S3).
   */
  webhookKey: string | undefined;
  /** Webhooks may reach private, loopback and link-local addresses (local receivers, tests). */
  webhooksAllowPrivate: boolean;
  webhookTimeoutMs: number;
  /** Tries per event and webhook, the first included. */
  webhookMaxAttempts: number;
  /** Delay before the first retry; doubled on each further one (capped at an hour). */
  webhookRetryBaseMs: number;
  /** Bearer token /metrics asks for; alone, it puts /metrics on the API port. Unset (and no metrics port): no /metrics. */
  metricsToken: string | undefined;
  /** /metrics on a plain HTTP server of its own on this port (then never on the API port); workers serve theirs here. */
  metricsPort: number | undefined;
}

/** STORYFORGE_S3_*: the bucket, its server, and how to reach it (credentials: the AWS SDK's default chain). */
export interface S3Config {
  bucket: string;
  /** STORYFORGE_S3_ENDPOINT: MinIO, Ceph, R2...; unset: AWS S3 of `region`. */
  endpoint: string | undefined;
  region: string;
  /** STORYFORGE_S3_FORCE_PATH_STYLE=1: `<endpoint>/<bucket>/<key>` URLs. */
  forcePathStyle: boolean;
  /** STORYFORGE_S3_PREFIX, as "" or ending in "/": objects are `<prefix>images/...` and `<prefix>banks/...`. */
  prefix: string;
  /** STORYFORGE_S3_PRESIGN=1: the image store makes presigned GET URLs. */
  presign: boolean;
  /** STORYFORGE_S3_MAX_ATTEMPTS: tries of each request, the first included (backoff with jitter in between). */
  maxAttempts: number;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

function int(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

function optionalInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  return env[name] === undefined || env[name] === '' ? undefined : int(env, name, 0);
}

function providers(raw: string): ExecutionProvider[] {
  try {
    return parseProviders(raw);
  } catch (error) {
    throw new StartupError(`STORYFORGE_EXECUTION_PROVIDERS must list cpu and/or cuda, comma-separated, got "${raw}"`, { cause: error });
  }
}

function logLevel(raw: string | undefined): LogLevel {
  const level = raw ?? 'info';
  if (level === 'debug' || level === 'info' || level === 'warn' || level === 'error') return level;
  throw new Error(`LOG_LEVEL must be debug, info, warn or error, got "${level}"`);
}

function s3(env: NodeJS.ProcessEnv): S3Config | undefined {
  const bucket = env.STORYFORGE_S3_BUCKET;
  if (!bucket) return undefined;
  const endpoint = env.STORYFORGE_S3_ENDPOINT || undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(endpoint)) {
    throw new StartupError(`STORYFORGE_S3_ENDPOINT must be an http:// or https:// URL, got "${endpoint}"`);
  }
  const prefix = (env.STORYFORGE_S3_PREFIX ?? '').replace(/^\/+|\/+$/g, '');
  return {
    bucket,
    endpoint,
    region: env.STORYFORGE_S3_REGION || 'us-east-1',
    forcePathStyle: env.STORYFORGE_S3_FORCE_PATH_STYLE === '1',
    prefix: prefix === '' ? '' : `${prefix}/`,
    presign: env.STORYFORGE_S3_PRESIGN === '1',
    maxAttempts: Math.max(1, int(env, 'STORYFORGE_S3_MAX_ATTEMPTS', 8)),
  };
}

/**
 * A secret from the environment (`name`) or from the file `name`_FILE names (a mounted secret;
 * surrounding whitespace dropped), not both. With a shared bucket (`shared`), several hosts must
 * agree on it, so a secret given neither way refuses the start instead of being generated.
 */
function secret(env: NodeJS.ProcessEnv, name: string, what: string, shared: boolean): string | undefined {
  const fileVar = `${name}_FILE`;
  const direct = env[name] || undefined;
  const file = env[fileVar] || undefined;
  if (direct && file) throw new StartupError(`${name} and ${fileVar} are both set: set one of them`);
  let value = direct;
  if (file) {
    try {
      value = readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new StartupError(`${fileVar} is "${file}", which cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
    }
    if (value === '') throw new StartupError(`${fileVar} is "${file}", which is empty`);
  }
  if (!value && shared) {
    throw new StartupError(`STORYFORGE_S3_BUCKET is set, so every host must share the ${what}: set ${name} or ${fileVar} `
      + `(64 hex digits, e.g. from \`openssl rand -hex 32\`), the same on every host`);
  }
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const s3Config = s3(env);
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    host: env.HOST || '0.0.0.0',
    port: int(env, 'PORT', 4000),
    dataDir: resolve(projectRoot(), env.STORYFORGE_DATA_DIR || '.data'),
    platformKey: env.STORYFORGE_PLATFORM_KEY || undefined,
    poolSize: int(env, 'STORYFORGE_DB_POOL_SIZE', 10),
    logLevel: logLevel(env.LOG_LEVEL),
    maxBodyBytes: int(env, 'STORYFORGE_MAX_BODY_BYTES', 1_000_000),
    rateLimitPerMinute: int(env, 'STORYFORGE_RATE_LIMIT_PER_MINUTE', 1200),
    addressRateLimitPerMinute: int(env, 'STORYFORGE_ADDRESS_RATE_LIMIT_PER_MINUTE', 60),
    trustedProxies: int(env, 'STORYFORGE_TRUSTED_PROXIES', 0),
    publicUrl: publicUrl(env.STORYFORGE_PUBLIC_URL),
    // GraphiQL reads the schema by introspection: turning it on in production turns that on too.
    introspection: env.NODE_ENV !== 'production' || env.STORYFORGE_GRAPHIQL === '1',
    workerNice: int(env, 'STORYFORGE_WORKER_NICE', 10),
    graphiql: env.STORYFORGE_GRAPHIQL ? env.STORYFORGE_GRAPHIQL === '1' : env.NODE_ENV !== 'production',
    maxQueryCost: int(env, 'STORYFORGE_MAX_QUERY_COST', 10_000),
    shutdownTimeoutMs: int(env, 'STORYFORGE_SHUTDOWN_TIMEOUT_MS', 10_000),
    workers: int(env, 'STORYFORGE_WORKERS', 1),
    ortThreads: Math.max(1, int(env, 'STORYFORGE_ORT_THREADS', 1)),
    modelsDir: resolve(projectRoot(), env.STORYFORGE_MODELS_DIR || join('models', 'packs')),
    defaultModel: env.STORYFORGE_DEFAULT_MODEL || 'story-world',
    executionProviders: providers(env.STORYFORGE_EXECUTION_PROVIDERS || 'cpu'),
    cudaDeviceId: int(env, 'STORYFORGE_CUDA_DEVICE', 0),
    workerHeartbeatSeconds: Math.max(1, int(env, 'STORYFORGE_WORKER_HEARTBEAT_SECONDS', 10)),
    unservedJobSeconds: Math.max(1, int(env, 'STORYFORGE_UNSERVED_JOB_SECONDS', 300)),
    maxActiveJobs: Math.max(1, int(env, 'STORYFORGE_MAX_ACTIVE_JOBS', 10)),
    jobRetries: int(env, 'STORYFORGE_JOB_RETRIES', 2),
    jobRetryDelaySeconds: Math.max(1, int(env, 'STORYFORGE_JOB_RETRY_DELAY_SECONDS', 5)),
    jobExpireSeconds: Math.max(10, int(env, 'STORYFORGE_JOB_EXPIRE_SECONDS', 900)),
    queuePollSeconds: Math.max(1, int(env, 'STORYFORGE_QUEUE_POLL_SECONDS', 1)),
    queueMaintenanceSeconds: Math.max(1, int(env, 'STORYFORGE_QUEUE_MAINTENANCE_SECONDS', 30)),
    bankCacheBytes: int(env, 'STORYFORGE_BANK_CACHE_MB', 256) * 1024 * 1024,
    s3: s3Config,
    urlSecret: secret(env, 'STORYFORGE_URL_SECRET', 'image URL secret', s3Config !== undefined),
    urlTtlSeconds: Math.max(1, int(env, 'STORYFORGE_URL_TTL_SECONDS', 3600)),
    imageDeleteGraceSeconds: int(env, 'STORYFORGE_IMAGE_DELETE_GRACE_SECONDS', 60),
    unusedUploadSeconds: int(env, 'STORYFORGE_UNUSED_UPLOAD_HOURS', 24) * 3600,
    webhookKey: secret(env, 'STORYFORGE_WEBHOOK_KEY', 'webhook key', s3Config !== undefined),
    webhooksAllowPrivate: env.STORYFORGE_WEBHOOKS_ALLOW_PRIVATE === '1',
    webhookTimeoutMs: Math.max(100, int(env, 'STORYFORGE_WEBHOOK_TIMEOUT_MS', 10_000)),
    webhookMaxAttempts: Math.max(1, int(env, 'STORYFORGE_WEBHOOK_MAX_ATTEMPTS', 8)),
    webhookRetryBaseMs: Math.max(1, int(env, 'STORYFORGE_WEBHOOK_RETRY_BASE_MS', 30_000)),
    metricsToken: env.STORYFORGE_METRICS_TOKEN || undefined,
    metricsPort: optionalInt(env, 'STORYFORGE_METRICS_PORT'),
  };
}

export function embeddedPgDir(config: Config): string {
  return join(config.dataDir, 'pg');
}

/** An http(s) origin, with a path prefix when the API is mounted under one; no trailing slash. */
function publicUrl(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new StartupError(`STORYFORGE_PUBLIC_URL must be an http:// or https:// URL, got "${raw}"`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || url.username || url.password) {
    throw new StartupError(`STORYFORGE_PUBLIC_URL must be an http:// or https:// URL without query, fragment or credentials, got "${raw}"`);
  }
  return (url.origin + url.pathname).replace(/\/+$/, '');
}
