import { BlockList, isIP } from 'node:net';

/**
 * Addresses a webhook may not reach unless STORYFORGE_WEBHOOKS_ALLOW_PRIVATE=1: loopback,
 * private, carrier-grade NAT, link-local (cloud metadata at 169.254.169.254), unique-local,
 * multicast, reserved and documentation ranges. IPv4-mapped IPv6 addresses match the IPv4 rules.
 */
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) BLOCKED.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32], ['64:ff9b:1::', 48], ['100::', 64],
] as const) BLOCKED.addSubnet(net, prefix, 'ipv6');

/** True for an address a webhook may not reach by default. Not an IP address: false. */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(bare);
  if (family === 0) return false;
  return BLOCKED.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

export class PrivateAddressError extends Error {
  constructor(address: string) {
    super(`${address} is a private or reserved address; webhooks reach it only with STORYFORGE_WEBHOOKS_ALLOW_PRIVATE=1`);
    this.name = 'PrivateAddressError';
  }
}
