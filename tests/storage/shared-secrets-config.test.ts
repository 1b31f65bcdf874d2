/** Secrets every host must share: from the environment or a mounted file, and never generated when S3 is configured. */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { StartupError } from '../../src/util/startup-error';

const ROOT = join(__dirname, '../..');

/** Runs an entry point in a fresh process (TypeScript through the project's SWC hook): its exit code and stderr. */
function run(entry: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['-r', './tests/support/ts-register.cjs', entry, ...args], {
    cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

describe('shared secrets and S3 settings in the configuration', () => {
  let dir: string;
  const hex = randomBytes(32).toString('hex');
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-secrets-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The error loadConfig throws for `env` (fails the test when it throws none). */
  function refusal(env: Record<string, string>): StartupError {
    try {
      loadConfig({ STORYFORGE_DATA_DIR: dir, ...env });
    } catch (error) {
      expect(error).toBeInstanceOf(StartupError);
      return error as StartupError;
    }
    throw new Error('loadConfig did not refuse');
  }

  it('refuses to start with S3 and no image URL secret, in one line that names both ways to give it', () => {
    const error = refusal({ STORYFORGE_S3_BUCKET: 'images', STORYFORGE_WEBHOOK_KEY: hex });
    expect(error.message).not.toContain('\n');
    expect(error.message).toContain('STORYFORGE_S3_BUCKET is set');
    expect(error.message).toContain('STORYFORGE_URL_SECRET or STORYFORGE_URL_SECRET_FILE');
  });

  it('refuses to start with S3 and no webhook key', () => {
    const error = refusal({ STORYFORGE_S3_BUCKET: 'images', STORYFORGE_URL_SECRET: hex });
    expect(error.message).not.toContain('\n');
    expect(error.message).toContain('STORYFORGE_WEBHOOK_KEY or STORYFORGE_WEBHOOK_KEY_FILE');
  });

  it('leaves both unset on a single host (they are generated into the data dir, as before)', () => {
    const config = loadConfig({ STORYFORGE_DATA_DIR: dir });
    expect(config.s3).toBeUndefined();
    expect(config.urlSecret).toBeUndefined();
    expect(config.webhookKey).toBeUndefined();
  });

  it('reads each secret from a mounted file, trimmed, and starts with S3', () => {
    const urlFile = join(dir, 'url-secret.txt');
    const keyFile = join(dir, 'webhook-key.txt');
    writeFileSync(urlFile, `${hex}\n`);
    writeFileSync(keyFile, '  the webhook key of every host, at least 32 characters  \n');
    const config = loadConfig({
      STORYFORGE_DATA_DIR: dir, STORYFORGE_S3_BUCKET: 'images', STORYFORGE_URL_SECRET_FILE: urlFile, STORYFORGE_WEBHOOK_KEY_FILE: keyFile,
    });
    expect(config.urlSecret).toBe(hex);
    expect(config.webhookKey).toBe('the webhook key of every host, at least 32 characters');
    expect(config.s3).toEqual({
      bucket: 'images', endpoint: undefined, region: 'us-east-1', forcePathStyle: false, prefix: '', presign: false, maxAttempts: 8,
    });
  });

  it('refuses a secret file that cannot be read, an empty one, and a secret given both ways', () => {
    expect(refusal({ STORYFORGE_URL_SECRET_FILE: join(dir, 'missing') }).message)
      .toMatch(/^STORYFORGE_URL_SECRET_FILE is ".*missing", which cannot be read \(ENOENT\)$/);
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(refusal({ STORYFORGE_WEBHOOK_KEY_FILE: empty }).message).toContain('which is empty');
    expect(refusal({ STORYFORGE_URL_SECRET: hex, STORYFORGE_URL_SECRET_FILE: empty }).message)
      .toBe('STORYFORGE_URL_SECRET and STORYFORGE_URL_SECRET_FILE are both set: set one of them');
  });

  it('reads the S3 settings', () => {
    const config = loadConfig({
      STORYFORGE_DATA_DIR: dir, STORYFORGE_S3_BUCKET: 'b', STORYFORGE_S3_ENDPOINT: 'http://minio:9000', STORYFORGE_S3_REGION: 'eu-west-3',
      STORYFORGE_S3_FORCE_PATH_STYLE: '1', STORYFORGE_S3_PREFIX: '/prod/', STORYFORGE_S3_PRESIGN: '1', STORYFORGE_S3_MAX_ATTEMPTS: '3',
      STORYFORGE_URL_SECRET: hex, STORYFORGE_WEBHOOK_KEY: hex,
    });
    expect(config.s3).toEqual({
      bucket: 'b', endpoint: 'http://minio:9000', region: 'eu-west-3', forcePathStyle: true, prefix: 'prod/', presign: true, maxAttempts: 3,
    });
    expect(refusal({ STORYFORGE_S3_BUCKET: 'b', STORYFORGE_S3_ENDPOINT: 'minio:9000', STORYFORGE_URL_SECRET: hex, STORYFORGE_WEBHOOK_KEY: hex }).message)
      .toContain('STORYFORGE_S3_ENDPOINT must be an http:// or https:// URL');
  });

  it('makes the server and the worker exit 1 with that one line on stderr', async () => {
    const env = { STORYFORGE_DATA_DIR: join(dir, 'process'), STORYFORGE_S3_BUCKET: 'images', STORYFORGE_WEBHOOK_KEY: hex };
    for (const [entry, args] of [['src/main.ts', []], ['src/cli/storyforge.ts', ['worker']]] as const) {
      const { code, stderr } = await run(entry, [...args], env);
      expect(code).toBe(1);
      expect(stderr).toMatch(/^STORYFORGE_S3_BUCKET is set, so every host must share the image URL secret: set STORYFORGE_URL_SECRET or STORYFORGE_URL_SECRET_FILE [^\n]*\n$/);
    }
  }, 120_000);
});
