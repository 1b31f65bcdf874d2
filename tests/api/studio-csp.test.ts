/**
 * The studio page's Content-Security-Policy lets pictures load from wherever the API's answers
 * point them: its own origin, the STORYFORGE_PUBLIC_URL origin (a CDN or proxy host), and the
 * bucket when URLs are presigned there (a real S3 store's signer: signing needs no network).
 * Nothing else is widened.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { StudioOptions, studioRouter } from '../../src/api/studio/studio-route';
import { S3ImageStore } from '../../src/storage/s3';

const bucket = (endpoint: string) => new S3ImageStore({
  bucket: 'frames', endpoint, region: 'us-east-1', forcePathStyle: true, prefix: '', presign: true, maxAttempts: 1,
  credentials: { accessKeyId: 'studio', secretAccessKey: 'studio-secret' },
});

describe('studio content security policy', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-studio-csp-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>studio</title>');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function policy(options: Omit<StudioOptions, 'dir'>): Promise<Record<string, string>> {
    const server = express().use(studioRouter({ dir, ...options })).listen(0, '127.0.0.1');
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/stories`);
      expect(res.status).toBe(200);
      const header = res.headers.get('content-security-policy') ?? '';
      return Object.fromEntries(header.split('; ').map((d) => [d.split(' ')[0]!, d.split(' ').slice(1).join(' ')]));
    } finally {
      server.close();
    }
  }

  it('allows pictures from this origin only, by default', async () => {
    const csp = await policy({});
    expect(csp['img-src']).toBe("'self' data: blob:");
    expect(csp['script-src']).toBe("'self'");
    expect(csp['connect-src']).toBe("'self'");
  });

  it('adds the public URL origin (not its path) and the presigning bucket origin, each once', async () => {
    expect((await policy({ publicUrl: 'https://cdn.example.com/storyforge' }))['img-src']).toBe("'self' data: blob: https://cdn.example.com");
    expect((await policy({ images: bucket('http://minio.internal:9000') }))['img-src']).toBe("'self' data: blob: http://minio.internal:9000");
    const both = await policy({ publicUrl: 'https://cdn.example.com', images: bucket('https://s3.example.net') });
    expect(both['img-src']).toBe("'self' data: blob: https://cdn.example.com https://s3.example.net");
    expect((await policy({ publicUrl: 'https://s3.example.net/x', images: bucket('https://s3.example.net') }))['img-src'])
      .toBe("'self' data: blob: https://s3.example.net");
    // Scripts and connections stay this origin's whatever the pictures' origins.
    expect([both['script-src'], both['connect-src'], both['default-src']]).toEqual(["'self'", "'self'", "'self'"]);
  });
});
