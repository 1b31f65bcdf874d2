import { BlockList, isIP } from 'node:net';

/**
 * Addresses a webhook may not reach unless STORYFORGE_WEBHOOKS_ALLOW_PRIVATE=1: loopback,
 * private, carrier-grade NAT, link-local (cloud metadata at 169.254.169.254), unique-local,
 * multicast, reserved and documentation ranges.
 *
 * IPv6 ranges that carry an IPv4 address reach that IPv4 host (through a translator, a relay or
 * the host's own IPv4 stack), so they must not be a way around the IPv4 rules:
 * - checked by their embedded IPv4 address: IPv4-mapped `::ffff:0:0/96`, IPv4-compatible
 *   `::/96`, IPv4-translated `::ffff:0:0:0/96`, NAT64 `64:ff9b::/96` (RFC 6052) and 6to4
 *   `2002::/16` (the IPv4 address in bits 16-47). `64:ff9b::8.8.8.8` is as public as 8.8.8.8;
 *   `64:ff9b::10.0.0.1` is as private as 10.0.0.1.
 * - refused outright: local-use NAT64 `64:ff9b:1::/48` (RFC 8215: the operator chooses where the
 *   IPv4 address sits, so it cannot be read reliably, and it is local by definition) and Teredo
 *   `2001::/32` (its client address is obfuscated and reached through a relay; the protocol is
 *   obsolete, so no legitimate receiver needs it).
 */
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) BLOCKED.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32], ['3fff::', 20], ['100::', 64],
  ['2001:10::', 28], ['2001:20::', 28], ['5f00::', 16],
  // Refused outright, see above.
  ['64:ff9b:1::', 48], ['2001::', 32],
] as const) BLOCKED.addSubnet(net, prefix, 'ipv6');

/** True for an address a webhook may not reach by default. Not an IP address: false. */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return false;
  if (family === 4) return BLOCKED.check(bare, 'ipv4');
  if (BLOCKED.check(bare, 'ipv6')) return true;
  const embedded = embeddedIpv4(ipv6Bytes(bare));
  return embedded !== undefined && BLOCKED.check(embedded, 'ipv4');
}

/** The IPv4 address an IPv6 address carries by one of the embedding schemes above, if any. */
function embeddedIpv4(b: Uint8Array): string | undefined {
  const zero = (from: number, to: number) => b.subarray(from, to).every((x) => x === 0);
  const v4 = (at: number) => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
  // ::a.b.c.d (compatible), ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d (translated)
  if (zero(0, 10) && ((b[10] === 0 && b[11] === 0) || (b[10] === 0xff && b[11] === 0xff))) return v4(12);
  if (zero(0, 8) && b[8] === 0xff && b[9] === 0xff && b[10] === 0 && b[11] === 0) return v4(12);
  // 64:ff9b::a.b.c.d (NAT64, well-known prefix)
  if (b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return v4(12);
  // 2002:aabb:ccdd::/48 (6to4)
  if (b[0] === 0x20 && b[1] === 0x02) return v4(2);
  return undefined;
}

/** The 16 bytes of a valid IPv6 address (as net.isIP accepts it: `::`, a trailing dotted quad). */
function ipv6Bytes(address: string): Uint8Array {
  let text = address.toLowerCase();
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, quad.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined];
  const groups = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = groups(head);
  const right = groups(tail);
  const words = tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[2 * i] = w >> 8;
    bytes[2 * i + 1] = w & 0xff;
  });
  return bytes;
}

export class PrivateAddressError extends Error {
  constructor(address: string) {
    super(`${address} is a private or reserved address; webhooks reach it only with STORYFORGE_WEBHOOKS_ALLOW_PRIVATE=1`);
    this.name = 'PrivateAddressError';
  }
}
