import type { IncomingMessage } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';

/**
 * The address a per-client limit is kept under, for HTTP requests and WebSocket upgrades alike.
 *
 * `trustedProxies` is how many reverse proxies stand in front of the server, each appending the
 * address it saw to X-Forwarded-For: the client is that many hops back from the socket's peer.
 * With 0 the header is ignored, so a client cannot choose its own address by sending one.
 *
 * An IPv6 client is kept under its /64: one subscriber usually holds a whole /64, so counting
 * single addresses would hand an attacker 2^64 budgets.
 */
export function clientAddress(request: IncomingMessage, trustedProxies: number): string {
  const hops = [request.socket.remoteAddress ?? 'unknown'];
  if (trustedProxies > 0) {
    const forwarded = request.headers['x-forwarded-for'];
    const listed = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded ?? '').split(',').map((a) => a.trim()).filter(Boolean);
    hops.unshift(...listed);
  }
  // hops: client, proxy 1, ..., peer. Never further back than the first listed address.
  const chosen = hops[Math.max(0, hops.length - 1 - trustedProxies)];
  return addressKey(chosen);
}

/** IPv4 as is (IPv4-mapped IPv6 included), IPv6 as its /64 prefix, anything else verbatim. */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped && isIPv4(mapped[1])) return mapped[1];
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, as lowercase hex without leading zeros. */
function expandIPv6(address: string): string[] {
  const [head, tail] = address.toLowerCase().split('%')[0].split('::') as [string, string | undefined];
  const groups = (part: string | undefined) => (part ? part.split(':').flatMap(embeddedIPv4) : []);
  const left = groups(head);
  const right = groups(tail);
  const zeros = tail === undefined ? [] : Array(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16).toString(16));
}

function embeddedIPv4(group: string): string[] {
  if (!group.includes('.')) return [group];
  const [a, b, c, d] = group.split('.').map(Number);
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}
