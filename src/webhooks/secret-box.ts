import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { loadOrCreateSecretFile } from '../util/secret-file';

/** A sealed secret that cannot be opened: the server key changed, or the row was tampered with. */
export class SealedSecretError extends Error {}

/**
 * AES-256-GCM under the server's webhook key. A sealed value is iv (12 bytes) | tag (16) | text;
 * the additional data binds it to its row (project and webhook ids), so a value copied onto
 * another row does not open. `keyId` (the key's SHA-256, first 16 hex digits) is stored beside
 * it, so a changed key is reported as such.
 */
export class SecretBox {
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the webhook key must be 32 bytes');
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 16);
  }

  seal(plaintext: string, boundTo: string): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(boundTo));
    const text = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), text]);
  }

  open(sealed: Buffer, keyId: string, boundTo: string): string {
    if (keyId !== this.keyId) {
      throw new SealedSecretError('the webhook secret was sealed with another server key (STORYFORGE_WEBHOOK_KEY changed)');
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, 12));
      decipher.setAAD(Buffer.from(boundTo));
      decipher.setAuthTag(sealed.subarray(12, 28));
      return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new SealedSecretError('the webhook secret does not open with the server key');
    }
  }
}

/**
 * The webhook key: STORYFORGE_WEBHOOK_KEY (64 hex digits, or any text of 32+ characters, hashed
 * to 32 bytes), else `<data dir>/webhook-key`, made on first use.
 */
export function loadWebhookKey(fromEnv: string | undefined, dataDir: string): Buffer {
  if (fromEnv) {
    if (/^[0-9a-f]{64}$/i.test(fromEnv)) return Buffer.from(fromEnv, 'hex');
    if (fromEnv.length < 32) throw new Error('STORYFORGE_WEBHOOK_KEY must be 64 hex digits or at least 32 characters');
    return createHash('sha256').update(fromEnv).digest();
  }
  return loadOrCreateSecretFile(dataDir, 'webhook-key');
}
