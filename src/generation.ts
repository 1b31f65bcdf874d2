/**
 * The job system's parts a process needs, built from configuration: the queue, the installed
 * model packs, the image store and the URL signer. The API uses them to start jobs and serve
 * pictures; workers (workers/) to run jobs.
 */
import type { Config, S3Config } from './config';
import type { JobLimits } from './domain/jobs/job.service';
import { PgBossQueue } from './queue/pg-boss-queue';
import type { JobQueue } from './queue/queue';
import { PackRegistry } from './packs/pack-registry';
import type { ImageStore } from './storage/image-store';
import { createImageStore } from './storage/stores';
import { UrlSigner, loadUrlSecret } from './storage/signed-urls';
import type { Logger } from './util/logger';
import { StartupError } from './util/startup-error';

export interface Generation {
  queue: JobQueue;
  packs: PackRegistry;
  images: ImageStore;
  signer: UrlSigner;
  limits: JobLimits;
  /** The pack a story renders with when its creator names none. */
  defaultModel: string;
  /** Workers' heartbeat period: a worker is alive for three of them. */
  heartbeatSeconds: number;
  /** A queued job whose pack no live worker serves fails after this long. */
  unservedSeconds: number;
}

export type GenerationConfig = Pick<Config, 'dataDir' | 'modelsDir' | 'defaultModel' | 'workerHeartbeatSeconds' | 'unservedJobSeconds' | 'maxActiveJobs' | 'jobRetries' | 'jobRetryDelaySeconds'
  | 'jobExpireSeconds' | 'queuePollSeconds' | 'queueMaintenanceSeconds' | 'urlSecret' | 'urlTtlSeconds'> & { s3?: S3Config | undefined };

export function createGeneration(config: GenerationConfig, databaseUrl: string, log: Logger): Generation {
  const packs = PackRegistry.load(config.modelsDir);
  if (!packs.get(config.defaultModel)) {
    throw new StartupError(`STORYFORGE_DEFAULT_MODEL is "${config.defaultModel}", which is not a pack under ${config.modelsDir} (there: ${packs.names.join(', ') || 'none'})`);
  }
  // loadConfig refuses this already; a config built by hand must not get a secret private to this host either.
  if (config.s3 && !config.urlSecret) {
    throw new StartupError('STORYFORGE_S3_BUCKET is set, so every host must share the image URL secret: set STORYFORGE_URL_SECRET or STORYFORGE_URL_SECRET_FILE');
  }
  return {
    queue: new PgBossQueue({
      connectionString: databaseUrl,
      policy: { retryLimit: config.jobRetries, retryDelaySeconds: config.jobRetryDelaySeconds, expireInSeconds: config.jobExpireSeconds },
      pollingIntervalSeconds: config.queuePollSeconds,
      maintenanceIntervalSeconds: config.queueMaintenanceSeconds,
    }, log.child({ component: 'queue' })),
    packs,
    defaultModel: config.defaultModel,
    heartbeatSeconds: config.workerHeartbeatSeconds,
    unservedSeconds: config.unservedJobSeconds,
    images: createImageStore(config),
    signer: new UrlSigner(loadUrlSecret(config.urlSecret, config.dataDir), config.urlTtlSeconds),
    // A client that hit the limit is told to come back in about the time a short job takes.
    limits: { maxActiveJobs: config.maxActiveJobs, retryAfterSeconds: 30 },
  };
}
