/**
 * The server's startup (src/main.ts, as `node dist/src/main.js` runs it in the image) as a user
 * without root, against a fresh data folder: the Docker image runs as `node`, which can write
 * only the data folder the Dockerfile makes for it. Run here as `nobody` (setpriv), with the
 * folder given to it as the Dockerfile gives /data to node; and with a folder it may not write
 * (what Docker makes for a mount point the image lacks: root's), where the start must fail with
 * one clear message.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canRunAsNobody } from '../support/run-as-nobody';
import { TestDatabase, createTestDatabase } from '../support/test-db';

jest.setTimeout(180_000);

const ROOT = join(__dirname, '../..');
const NOBODY = 65534;
const canDropPrivileges = canRunAsNobody();

function startAsNobody(dataDir: string, databaseUrl: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn('/usr/bin/setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups',
    process.execPath, '-r', './tests/support/ts-register.cjs', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH, HOME: dataDir, DATABASE_URL: databaseUrl, STORYFORGE_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1',
      STORYFORGE_WORKERS: '0', LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (d) => (text += d));
  child.stderr!.on('data', (d) => (text += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

async function waitFor<T>(what: () => T | undefined, exited: Promise<unknown>): Promise<T> {
  let done = false;
  void exited.then(() => (done = true));
  for (;;) {
    const value = what();
    if (value !== undefined) return value;
    if (done) throw new Error('the process exited first');
    await new Promise((r) => setTimeout(r, 100));
  }
}

(canDropPrivileges ? describe : describe.skip)('the server started by a user without root', () => {
  let db: TestDatabase;
  let scratch: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    scratch = mkdtempSync(join(tmpdir(), 'sf-nonroot-'));
    chmodSync(scratch, 0o755);
  });
  afterAll(async () => {
    await db.drop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('starts with a fresh data folder it owns, writes its URL secret there, serves, and stops on SIGTERM', async () => {
    const dataDir = join(scratch, 'data');
    mkdirSync(dataDir);
    chownSync(dataDir, NOBODY, NOBODY);
    const app = startAsNobody(dataDir, db.url);
    try {
      const url = await waitFor(() => /"msg":"listening".*?"url":"(http:[^"]+)"/.exec(app.output())?.[1], app.exited)
        .catch((error) => { throw new Error(`${error.message}:\n${app.output()}`); });
      const ready = await fetch(url.replace('/graphql', '/readyz').replace('localhost', '127.0.0.1'));
      expect(ready.status).toBe(200);
      const secret = statSync(join(dataDir, 'url-secret'));
      expect({ uid: secret.uid, mode: secret.mode & 0o777 }).toEqual({ uid: NOBODY, mode: 0o600 });
      app.child.kill('SIGTERM');
      expect(await app.exited).toBe(0);
    } finally {
      app.child.kill('SIGKILL');
    }
  });

  it('refuses to start, saying why, when it cannot write the data folder', async () => {
    const dataDir = join(scratch, 'root-owned');
    mkdirSync(dataDir, { mode: 0o755 });
    const app = startAsNobody(dataDir, db.url);
    expect(await app.exited).toBe(1);
    expect(app.output()).toContain(`STORYFORGE_DATA_DIR (${dataDir}) is not writable by this process (uid ${NOBODY})`);
    expect(app.output()).not.toContain('"msg":"listening"');
  });
});
