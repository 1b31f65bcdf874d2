/**
 * Image and page URLs in answers are absolute: under STORYFORGE_PUBLIC_URL when set, else under
 * the host the client called (X-Forwarded-Host/-Proto only from trusted proxies), so a studio
 * tool can use them as they are. A Host that is not a host name gives relative URLs, never a
 * URL pointing at whatever the header said.
 */
import { IncomingMessage, request } from 'node:http';
import { Socket } from 'node:net';
import sharp from 'sharp';
import { loadConfig } from '../../src/config';
import { absolute, publicOrigin } from '../../src/api/public-origin';
import { TestApi, startTestApi } from '../support/api-harness';
import { createCharacter } from '../support/fixtures';

function fakeRequest(headers: Record<string, string>): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.headers = headers;
  return req;
}

describe('public origin', () => {
  it('prefers the configured URL, then the Host header', () => {
    expect(publicOrigin(fakeRequest({ host: 'a.example:4000' }), 0, 'https://comics.example/api')).toBe('https://comics.example/api');
    expect(publicOrigin(fakeRequest({ host: 'a.example:4000' }), 0)).toBe('http://a.example:4000');
    expect(publicOrigin(fakeRequest({ host: '[::1]:4000' }), 0)).toBe('http://[::1]:4000');
  });

  it('reads forwarded host and protocol only from trusted proxies', () => {
    const forwarded = { host: 'internal:4000', 'x-forwarded-host': 'comics.example, proxy.local', 'x-forwarded-proto': 'https' };
    expect(publicOrigin(fakeRequest(forwarded), 0)).toBe('http://internal:4000');
    expect(publicOrigin(fakeRequest(forwarded), 1)).toBe('https://comics.example');
    expect(publicOrigin(fakeRequest({ ...forwarded, 'x-forwarded-proto': 'javascript' }), 1)).toBeUndefined();
  });

  it('gives no origin for a Host that is not a host name', () => {
    for (const host of ['evil.example/path', 'a b', 'x@evil.example', '']) expect(publicOrigin(fakeRequest({ host }), 0)).toBeUndefined();
  });

  it('prefixes only URLs the API signed for itself', () => {
    expect(absolute('/images/p/i?sig=1', 'https://c.example')).toBe('https://c.example/images/p/i?sig=1');
    expect(absolute('https://bucket.example/k?X-Amz-Signature=1', 'https://c.example')).toBe('https://bucket.example/k?X-Amz-Signature=1');
    expect(absolute('/images/p/i', undefined)).toBe('/images/p/i');
  });

  it('STORYFORGE_PUBLIC_URL must be a plain http(s) URL', () => {
    expect(loadConfig({ STORYFORGE_PUBLIC_URL: 'https://comics.example/api/' }).publicUrl).toBe('https://comics.example/api');
    expect(() => loadConfig({ STORYFORGE_PUBLIC_URL: 'ftp://x' })).toThrow('STORYFORGE_PUBLIC_URL must be an http:// or https:// URL');
    expect(() => loadConfig({ STORYFORGE_PUBLIC_URL: 'https://u:p@x' })).toThrow('without query, fragment or credentials');
  });
});

describe('absolute image URLs in answers', () => {
  const QUERY = `query($id: ID!) { node(id: $id) { ... on Character { referenceImages { url } } } }`;
  let api: TestApi;
  let configured: TestApi;

  async function characterWithPicture(server: TestApi): Promise<{ key: string; id: string }> {
    const key = (await server.createProject('Urls')).secret;
    const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#c33' } }).png().toBuffer();
    const res = await fetch(server.url.replace(/\/graphql$/, '/uploads'), { method: 'POST', body: new Uint8Array(png), headers: { authorization: `Bearer ${key}` } });
    const upload = await res.json() as { id: string };
    const hero = await createCharacter(server, key, 'Hero');
    const added = await server.gql(`mutation($c: ID!, $u: ID!) { addReferenceImages(characterId: $c, images: [{ uploadId: $u }]) { id } }`, { c: hero.id, u: upload.id }, key);
    expect(added.errors).toBeUndefined();
    return { key, id: hero.id };
  }

  /** The query over plain HTTP with a Host header of our choosing (fetch would not send one). */
  function withHost(server: TestApi, host: string, key: string, id: string, extra: Record<string, string> = {}): Promise<any> {
    const { port } = new URL(server.url);
    return new Promise((resolve, reject) => {
      const body = JSON.stringify({ query: QUERY, variables: { id } });
      const req = request({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', setHost: false,
        headers: { host, 'content-type': 'application/json', authorization: `Bearer ${key}`, ...extra } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve(JSON.parse(text)));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  beforeAll(async () => {
    api = await startTestApi();
    configured = await startTestApi({ publicUrl: 'https://comics.example/api' });
  });
  afterAll(async () => {
    await api?.close();
    await configured?.close();
  });

  it('are under the host the client called, and load from there', async () => {
    const { key, id } = await characterWithPicture(api);
    const r = await api.gql(QUERY, { id }, key);
    const url: string = r.data.node.referenceImages[0].url;
    expect(url.startsWith(`${new URL(api.url).origin}/images/`)).toBe(true);
    const served = await fetch(url);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');

    const named = await withHost(api, 'studio.local:8080', key, id);
    expect(named.data.node.referenceImages[0].url).toMatch(/^http:\/\/studio\.local:8080\/images\/[^?]+\?/);
    // No trusted proxy: a forwarded host is the client's claim, not the address to answer with.
    const forwarded = await withHost(api, 'studio.local:8080', key, id, { 'x-forwarded-host': 'evil.example' });
    expect(forwarded.data.node.referenceImages[0].url).toMatch(/^http:\/\/studio\.local:8080\//);
    const odd = await withHost(api, 'evil.example/x', key, id);
    expect(odd.data.node.referenceImages[0].url).toMatch(/^\/images\//);
  });

  it('are under STORYFORGE_PUBLIC_URL when it is set, whatever the Host', async () => {
    const { key, id } = await characterWithPicture(configured);
    const named = await withHost(configured, 'studio.local:8080', key, id);
    expect(named.data.node.referenceImages[0].url).toMatch(/^https:\/\/comics\.example\/api\/images\/[^?]+\?/);
  });
});
