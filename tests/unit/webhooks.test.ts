import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validWebhookUrl } from '../../src/domain/webhooks/webhook-url';
import { isPrivateAddress } from '../../src/webhooks/address-policy';
import { SealedSecretError, SecretBox, loadWebhookKey } from '../../src/webhooks/secret-box';
import { generateWebhookSecret, signatureHeader, verifySignature } from '../../src/webhooks/signature';

describe('webhook signatures', () => {
  const secret = generateWebhookSecret();
  const body = '{"id":"e1","type":"job.succeeded"}';

  it('signs <t>.<body> with HMAC-SHA256 under the whole secret', () => {
    const header = signatureHeader(secret, body, 1_700_000_000);
    expect(header).toBe(`t=1700000000,v1=${createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex')}`);
    expect(verifySignature(secret, body, header, { nowSeconds: 1_700_000_100 })).toBe(true);
  });

  it('refuses another body, another secret, a malformed header and an old timestamp', () => {
    const header = signatureHeader(secret, body, 1_700_000_000);
    const now = { nowSeconds: 1_700_000_000 };
    expect(verifySignature(secret, body + ' ', header, now)).toBe(false);
    expect(verifySignature(generateWebhookSecret(), body, header, now)).toBe(false);
    expect(verifySignature(secret, body, 'v1=abc', now)).toBe(false);
    expect(verifySignature(secret, body, header, { nowSeconds: 1_700_000_301 })).toBe(false);
  });
});

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('seals and opens a secret bound to its row', () => {
    const sealed = box.seal('whsec_abc', 'p1/w1');
    expect(sealed.includes(Buffer.from('whsec_abc'))).toBe(false);
    expect(box.open(sealed, box.keyId, 'p1/w1')).toBe('whsec_abc');
  });

  it('refuses another row, a changed byte and another key, saying which', () => {
    const sealed = box.seal('whsec_abc', 'p1/w1');
    expect(() => box.open(sealed, box.keyId, 'p2/w1')).toThrow(SealedSecretError);
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1] ^= 1;
    expect(() => box.open(flipped, box.keyId, 'p1/w1')).toThrow('does not open');
    const other = new SecretBox(randomBytes(32));
    expect(() => other.open(sealed, box.keyId, 'p1/w1')).toThrow('another server key');
  });

  it('loads the key from the environment, or makes one file under the data dir', () => {
    const hex = randomBytes(32).toString('hex');
    expect(loadWebhookKey(hex, '/nonexistent').toString('hex')).toBe(hex);
    expect(loadWebhookKey('a passphrase of at least thirty-two characters', '/nonexistent')).toHaveLength(32);
    expect(() => loadWebhookKey('too short', '/nonexistent')).toThrow('STORYFORGE_WEBHOOK_KEY');
    const dir = mkdtempSync(join(tmpdir(), 'sf-key-'));
    try {
      const first = loadWebhookKey(undefined, dir);
      expect(loadWebhookKey(undefined, dir).equals(first)).toBe(true);
      expect(readFileSync(join(dir, 'webhook-key'), 'utf8').trim()).toBe(first.toString('hex'));
      expect(statSync(join(dir, 'webhook-key')).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('address policy', () => {
  it.each([
    '127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1',
    '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '[::1]',
  ])('%s is private', (address) => expect(isPrivateAddress(address)).toBe(true));

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', 'example.com'])('%s is not', (address) => expect(isPrivateAddress(address)).toBe(false));

  // IPv6 forms that carry an IPv4 address reach that IPv4 host: judged by the address they carry.
  it.each([
    ['IPv4-mapped, hex', '::ffff:7f00:1'],
    ['IPv4-compatible', '::127.0.0.1'],
    ['IPv4-compatible, hex', '::a00:1'],
    ['IPv4-translated', '::ffff:0:192.168.1.1'],
    ['NAT64 well-known prefix, loopback', '64:ff9b::127.0.0.1'],
    ['NAT64 well-known prefix, metadata', '64:FF9B::A9FE:A9FE'],
    ['NAT64 well-known prefix, private, bracketed', '[64:ff9b::a00:1]'],
    ['6to4 of a private address', '2002:c0a8:101::1'],
    ['6to4 of loopback', '2002:7f00:1::'],
  ])('%s (%s) is private', (_form, address) => expect(isPrivateAddress(address)).toBe(true));

  it.each([
    ['NAT64 local-use prefix', '64:ff9b:1::808:808'],
    ['Teredo', '2001:0:4136:e378:8000:63bf:3fff:fdd2'],
    ['Teredo, public-looking', '2001::808:808'],
  ])('%s (%s) is refused outright', (_form, address) => expect(isPrivateAddress(address)).toBe(true));

  it.each(['64:ff9b::8.8.8.8', '2002:808:808::1', '::ffff:8.8.8.8', '2001:4860:4860::8888'])(
    '%s carries (or is) a public address and is not', (address) => expect(isPrivateAddress(address)).toBe(false));
});

describe('webhook URLs', () => {
  it('accepts http and https, normalised', () => {
    expect(validWebhookUrl('https://hooks.example.com/a?b=c', false)).toBe('https://hooks.example.com/a?b=c');
    expect(validWebhookUrl('HTTP://Example.COM', false)).toBe('http://example.com/');
  });

  it('refuses other schemes, credentials, and private or loopback hosts unless allowed', () => {
    for (const url of ['ftp://example.com', 'javascript:alert(1)', 'file:///etc/passwd', 'gopher://x', '//example.com', 'https://u:p@example.com/']) {
      expect(() => validWebhookUrl(url, true)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'url' }));
    }
    for (const url of ['http://127.0.0.1:8080/', 'http://localhost/', 'http://[::1]/', 'http://169.254.169.254/latest', 'http://2130706433/', 'http://api.localhost/',
      'http://[64:ff9b::a9fe:a9fe]/latest', 'http://[2002:a00:1::]/', 'http://[::ffff:0:10.0.0.1]/', 'http://[2001::1]/']) {
      expect(() => validWebhookUrl(url, false)).toThrow('STORYFORGE_WEBHOOKS_ALLOW_PRIVATE=1');
      expect(validWebhookUrl(url, true)).toMatch(/^http:/);
    }
    expect(() => validWebhookUrl(`https://example.com/${'x'.repeat(2000)}`, false)).toThrow('longer than');
  });
});
