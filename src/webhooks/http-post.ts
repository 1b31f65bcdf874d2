import { LookupAddress, LookupOptions, lookup as dnsLookup } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { PrivateAddressError, isPrivateAddress } from './address-policy';

export interface PostOptions {
  timeoutMs: number;
  /** Ends the attempt early (the server is stopping). */
  signal?: AbortSignal;
  /** STORYFORGE_WEBHOOKS_ALLOW_PRIVATE: private and loopback addresses allowed (local receivers, tests). */
  allowPrivate: boolean;
}

export interface PostResult {
  /** Set when a response came, whatever its status. */
  status: number | null;
  /** Why it did not succeed (null for a 2xx). */
  error: string | null;
  durationMs: number;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * DNS lookup that refuses private addresses. It runs as the socket's own lookup, so the address
 * checked is the address connected to (a name cannot resolve to a public address for the check
 * and a private one for the connection).
 */
function guardedLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '');
    const refused = addresses.find((a) => isPrivateAddress(a.address));
    if (refused) return callback(new PrivateAddressError(`${hostname} (${refused.address})`), '');
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '');
    callback(null, first.address, first.family);
  });
}

/**
 * POSTs `body` once: no redirects followed (a 3xx is a failure), no connection reuse, the whole
 * exchange bounded by `timeoutMs`. Resolves with what happened; never rejects.
 */
export function postJson(url: URL, body: string, headers: Record<string, string>, options: PostOptions): Promise<PostResult> {
  const started = process.hrtime.bigint();
  const elapsed = () => Math.round(Number(process.hrtime.bigint() - started) / 1e6);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (status: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ status, error, durationMs: elapsed() });
    };
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (!options.allowPrivate && isIP(host) && isPrivateAddress(host)) {
      resolve({ status: null, error: new PrivateAddressError(host).message, durationMs: 0 });
      return;
    }
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      agent: false,
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      ...(options.allowPrivate ? {} : { lookup: guardedLookup as never }),
    }, (response) => {
      const status = response.statusCode ?? 0;
      // The receiver's answer is not read beyond its status.
      response.resume();
      response.on('error', () => undefined);
      if (status >= 200 && status < 300) finish(status, null);
      else if (status >= 300 && status < 400) finish(status, `HTTP ${status}: redirects are not followed`);
      else finish(status, `HTTP ${status}`);
      request.destroy();
    });
    const timer = setTimeout(() => {
      finish(null, `no response within ${options.timeoutMs} ms`);
      request.destroy();
    }, options.timeoutMs);
    const onAbort = () => {
      finish(null, 'the attempt was cut short: the server stopped');
      request.destroy();
    };
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    request.on('close', () => options.signal?.removeEventListener('abort', onAbort));
    request.on('error', (error) => finish(null, error.message.slice(0, 500)));
    request.end(body);
  });
}
