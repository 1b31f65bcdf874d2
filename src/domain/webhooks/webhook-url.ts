import { isPrivateAddress } from '../../webhooks/address-policy';
import { badInput } from '../common/errors';

export const MAX_URL_LENGTH = 2000;

/**
 * A webhook URL as accepted at creation: http or https, no credentials in it, and, unless private
 * addresses are allowed, not a literal private or loopback address (nor `localhost`). Names are
 * checked again at every delivery, against the address they resolve to.
 */
export function validWebhookUrl(raw: string, allowPrivate: boolean): string {
  if (typeof raw !== 'string' || raw.length === 0) throw badInput('url', 'url is required');
  if (raw.length > MAX_URL_LENGTH) throw badInput('url', `url is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badInput('url', 'url is not a valid absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badInput('url', 'url must be http or https');
  if (url.username || url.password) throw badInput('url', 'url must not carry a user name or password');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (!allowPrivate && (isPrivateAddress(host) || host === 'localhost' || host.endsWith('.localhost'))) {
    throw badInput('url', 'url points at a private or loopback address; allowed only with STORYFORGE_WEBHOOKS_ALLOW_PRIVATE=1');
  }
  return url.toString();
}
