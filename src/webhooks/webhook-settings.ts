import type { Config } from '../config';
import { loadWebhookKey } from './secret-box';

/** What the webhook service and dispatcher need from the configuration. */
export interface WebhookSettings {
  /** The key that seals signing secrets; read (or made) on first use only. */
  key: () => Buffer;
  allowPrivate: boolean;
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** How often a dispatcher looks for due messages when no NOTIFY woke it. */
  pollMs: number;
}

export function webhookSettings(config: Pick<Config, 'dataDir' | 'webhookKey' | 'webhooksAllowPrivate' | 'webhookTimeoutMs'
  | 'webhookMaxAttempts' | 'webhookRetryBaseMs'>): WebhookSettings {
  let key: Buffer | undefined;
  return {
    key: () => (key ??= loadWebhookKey(config.webhookKey, config.dataDir)),
    allowPrivate: config.webhooksAllowPrivate,
    timeoutMs: config.webhookTimeoutMs,
    maxAttempts: config.webhookMaxAttempts,
    retryBaseMs: config.webhookRetryBaseMs,
    retryMaxMs: 3_600_000,
    pollMs: 5_000,
  };
}
