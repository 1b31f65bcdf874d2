import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/**
 * The origin clients reach this API at, for the absolute URLs of images and pages in its
 * answers: STORYFORGE_PUBLIC_URL when set (behind a proxy or CDN that rewrites hosts), else the
 * request's own Host, and X-Forwarded-Host/-Proto only from trusted proxies. A Host that is not
 * a plain host[:port] gives no origin: the URLs then stay relative rather than point elsewhere.
 */
export function publicOrigin(request: IncomingMessage, trustedProxies: number, configured?: string): string | undefined {
  if (configured) return configured;
  const forwarded = (name: string) => {
    if (trustedProxies === 0) return undefined;
    const value = request.headers[name];
    return (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim() || undefined;
  };
  const host = forwarded('x-forwarded-host') ?? request.headers.host;
  if (!host || !/^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(host)) return undefined;
  const proto = forwarded('x-forwarded-proto') ?? ((request.socket as TLSSocket).encrypted ? 'https' : 'http');
  if (proto !== 'http' && proto !== 'https') return undefined;
  return `${proto}://${host}`;
}

/** A URL the API signed for itself (/images/…, /pages/…) made absolute; anything else is already absolute. */
export function absolute(url: string, origin: string | undefined): string {
  return origin && url.startsWith('/') ? origin + url : url;
}
