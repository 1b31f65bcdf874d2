import { postJson } from '../../src/webhooks/http-post';
import { WebhookReceiver } from '../support/webhook-receiver';

/** The delivery POST against a real local receiver: SSRF checks at connect time, timeouts, redirects. */
describe('webhook HTTP delivery', () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await new WebhookReceiver().start();
  });
  afterAll(() => receiver.stop());

  const post = (url: string, allowPrivate: boolean, timeoutMs = 5000) =>
    postJson(new URL(url), '{"a":1}', { 'content-type': 'application/json' }, { allowPrivate, timeoutMs });

  it('reaches a loopback receiver only when private addresses are allowed', async () => {
    const port = new URL(receiver.url).port;
    const refusedLiteral = await post(`http://127.0.0.1:${port}/x`, false);
    expect(refusedLiteral).toMatchObject({ status: null, error: expect.stringContaining('STORYFORGE_WEBHOOKS_ALLOW_PRIVATE=1') });
    // A name is checked against the address it resolves to, as the connection is made.
    const refusedName = await post(`http://localhost:${port}/x`, false);
    expect(refusedName).toMatchObject({ status: null, error: expect.stringMatching(/localhost \((127\.0\.0\.1|::1)\) is a private/) });
    expect(receiver.requests).toHaveLength(0);

    const allowed = await post(`http://127.0.0.1:${port}/x`, true);
    expect(allowed).toMatchObject({ status: 204, error: null });
    expect((await receiver.next()).body).toBe('{"a":1}');
  });

  it('treats a redirect as a failure and does not follow it, and bounds a silent receiver by the timeout', async () => {
    receiver.respondWith(302);
    expect(await post(receiver.url, true)).toMatchObject({ status: 302, error: 'HTTP 302: redirects are not followed' });
    await receiver.next();
    receiver.respondWith(0);
    expect(await post(receiver.url, true, 300)).toMatchObject({ status: null, error: 'no response within 300 ms' });
    await receiver.next();
    receiver.release();
  });

  it('cuts an attempt short when its signal aborts (the server is stopping)', async () => {
    receiver.respondWith(0);
    const controller = new AbortController();
    const pending = postJson(new URL(receiver.url), '{}', {}, { allowPrivate: true, timeoutMs: 60_000, signal: controller.signal });
    await receiver.next();
    controller.abort();
    expect(await pending).toMatchObject({ status: null, error: 'the attempt was cut short: the server stopped' });
    receiver.release();
  });
});
