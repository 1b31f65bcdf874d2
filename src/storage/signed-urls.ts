import { createHmac, timingSafeEqual } from 'node:crypto';
import { loadOrCreateSecretFile } from '../util/secret-file';

/**
 * Project-scoped, expiring image URLs: `/images/<project>/<image>?exp=<unix s>&sig=<hmac>`, the
 * HMAC-SHA256 of "project/image/exp" with a server secret. Anyone holding the URL may fetch the
 * image until it expires; nothing else about the project is reachable with it. Expiry times are
 * rounded to a window, so a URL stays the same (and cacheable) for a while.
 */
/** What a signed URL opens: a stored image, or a comic page or download (story_pages). */
export type SignedRoute = 'images' | 'pages';

export class UrlSigner {
  constructor(private readonly secret: Buffer, readonly ttlSeconds: number) {
    if (secret.length < 32) throw new Error('the image URL secret must have at least 32 bytes');
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) throw new Error('the image URL lifetime must be at least 1 second');
  }

  /** The path of a signed URL, valid for ttl to 2*ttl seconds from `nowMs`. */
  sign(projectId: string, imageId: string, nowMs = Date.now(), route: SignedRoute = 'images'): string {
    const exp = (Math.floor(nowMs / 1000 / this.ttlSeconds) + 2) * this.ttlSeconds;
    return `/${route}/${projectId}/${imageId}?exp=${exp}&sig=${this.mac(projectId, imageId, exp, route)}`;
  }

  /** True when `sig` signs (project, image, exp) for `route` and exp has not passed. */
  verify(projectId: string, imageId: string, exp: string, sig: string, nowMs = Date.now(), route: SignedRoute = 'images'): boolean {
    if (!/^\d{1,12}$/.test(exp) || !/^[0-9a-f]{64}$/.test(sig)) return false;
    if (Number(exp) * 1000 <= nowMs) return false;
    return timingSafeEqual(Buffer.from(this.mac(projectId, imageId, Number(exp), route), 'hex'), Buffer.from(sig, 'hex'));
  }

  private mac(projectId: string, imageId: string, exp: number, route: SignedRoute): string {
    // Images keep the message they always had (URLs signed before pages existed stay valid).
    const scope = route === 'images' ? '' : `${route}:`;
    return createHmac('sha256', this.secret).update(`${scope}${projectId}/${imageId}/${exp}`).digest('hex');
  }
}

/** The secret from the environment or the file STORYFORGE_URL_SECRET_FILE names (both read by loadConfig; hex or any text of 32+ bytes), or `<data dir>/url-secret`. */
export function loadUrlSecret(fromEnv: string | undefined, dataDir: string): Buffer {
  if (fromEnv) return /^[0-9a-f]{64,}$/i.test(fromEnv) ? Buffer.from(fromEnv, 'hex') : Buffer.from(fromEnv);
  return loadOrCreateSecretFile(dataDir, 'url-secret');
}
