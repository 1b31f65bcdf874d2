/**
 * Starting with STORYFORGE_EXECUTION_PROVIDERS=cuda,cpu on a machine without CUDA (this one; on a
 * host with onnxruntime-node's CUDA build those cases are skipped):
 * `storyforge worker` and the server (src/main.ts) are the real commands in child processes
 * (TypeScript through the project's SWC register hook), against a real PostgreSQL. Each exits 1
 * with exactly one line on stderr saying what is missing and what to do; the worker refuses
 * before it touches the database or the data folder. With cpu the same worker starts, says which
 * providers its threads use, and stops on SIGTERM. startGenerationWorkers (the server's and the
 * worker's way to start threads) refuses the same way before it starts any.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { createGeneration } from '../../src/generation';
import { Logger } from '../../src/util/logger';
import { ProviderUnavailable } from '../../src/workers/compute/provider-check';
import { startGenerationWorkers } from '../../src/workers/generation-workers';
import { TestDatabase, createTestDatabase } from '../support/test-db';
import { cudaInstalled, notInstalledLine } from './cuda-refusal-line';

jest.setTimeout(180_000);

const ROOT = join(__dirname, '../..');

interface Started {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function start(entry: string, args: string[], env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['-r', './tests/support/ts-register.cjs', entry, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/**
 * Whether the process has its SIGTERM handler yet (Linux: SigCgt in /proc). The worker installs
 * it just after logging `workers started`; a SIGTERM before that ends it the default way.
 */
function catchesSigterm(pid: number): boolean {
  if (!existsSync('/proc/self/status')) return true;
  try {
    const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return caught !== undefined && ((BigInt(`0x${caught}`) >> 14n) & 1n) === 1n;
  } catch {
    return false; // exited: the caller says so
  }
}

async function tables(db: TestDatabase): Promise<number> {
  const r = await db.owner.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`);
  return r.rows[0].n;
}

/** The refusals need a machine without onnxruntime-node's CUDA build (this one). */
const withoutCuda = cudaInstalled ? it.skip : it;

describe('the execution providers at start', () => {
  let db: TestDatabase;
  let scratch: string;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    scratch = mkdtempSync(join(tmpdir(), 'sf-gpu-refusal-'));
  });
  afterAll(async () => {
    await db.drop();
    rmSync(scratch, { recursive: true, force: true });
  });

  withoutCuda('`storyforge worker` exits 1 with one line on stderr, before the database and the data folder', async () => {
    const dataDir = join(scratch, 'worker-data');
    const worker = start('src/cli/storyforge.ts', ['worker'], {
      DATABASE_URL: db.url, STORYFORGE_DATA_DIR: dataDir, STORYFORGE_EXECUTION_PROVIDERS: 'cuda,cpu', STORYFORGE_WORKERS: '2',
    });
    expect(await worker.exited).toBe(1);
    expect(worker.stderr()).toBe(notInstalledLine(0) + '\n');
    expect(worker.stdout()).toBe('');
    expect(existsSync(dataDir)).toBe(false);
    expect(await tables(db)).toBe(0);
  });

  withoutCuda('names the configured device (STORYFORGE_CUDA_DEVICE)', async () => {
    const worker = start('src/cli/storyforge.ts', ['worker'], {
      DATABASE_URL: db.url, STORYFORGE_DATA_DIR: join(scratch, 'worker-data'), STORYFORGE_EXECUTION_PROVIDERS: 'cuda', STORYFORGE_CUDA_DEVICE: '1',
    });
    expect(await worker.exited).toBe(1);
    expect(worker.stderr()).toBe(notInstalledLine(1) + '\n');
  });

  withoutCuda('the server (npm start) exits 1 with the same one line on stderr', async () => {
    const server = start('src/main.ts', [], {
      DATABASE_URL: db.url, STORYFORGE_DATA_DIR: join(scratch, 'server-data'), STORYFORGE_EXECUTION_PROVIDERS: 'cuda,cpu',
      STORYFORGE_WORKERS: '1', PORT: '0', HOST: '127.0.0.1',
    });
    expect(await server.exited).toBe(1);
    // The server opens the database and builds the API before its workers: another start failure
    // would be logged on stdout, which the failure message then shows.
    if (server.stderr() !== notInstalledLine(0) + '\n') throw new Error(`stderr: ${JSON.stringify(server.stderr())}\nstdout: ${server.stdout()}`);
    expect(server.stdout()).not.toContain('"msg":"listening"');
    expect(server.stdout()).not.toContain('"msg":"workers started"');
  });

  withoutCuda('startGenerationWorkers refuses before it starts a thread or works a queue', async () => {
    const logs: string[] = [];
    const log = new Logger('debug', {}, (line) => logs.push(line));
    const config = { ...loadConfig({ STORYFORGE_DATA_DIR: join(scratch, 'direct-data'), STORYFORGE_EXECUTION_PROVIDERS: 'cuda' }), workers: 1 };
    const generation = createGeneration(config, db.url, log);
    try {
      const started = startGenerationWorkers(config, db.dataSource, generation, log);
      await expect(started).rejects.toBeInstanceOf(ProviderUnavailable);
      await expect(started).rejects.toThrow(notInstalledLine(0));
      expect(logs.join('\n')).not.toContain('workers started');
    } finally {
      await generation.queue.stop(0).catch(() => undefined);
    }
  });

  // workers/main.ts is the same process under the name a deployment sees at the top of the tree.
  it.each([['src/cli/storyforge.ts', ['worker']], ['workers/main.ts', []]])('with cpu, the same worker (%s) starts on the cpu provider and stops on SIGTERM', async (entry, args) => {
    const worker = start(entry, args, {
      DATABASE_URL: db.url, STORYFORGE_DATA_DIR: join(scratch, 'cpu-data'), STORYFORGE_EXECUTION_PROVIDERS: 'cpu', STORYFORGE_WORKERS: '1',
    });
    try {
      for (let i = 0; !worker.stdout().includes('"msg":"workers started"') || !catchesSigterm(worker.child.pid!); i++) {
        if (i > 1200 || worker.child.exitCode !== null) throw new Error(`the worker did not start:\n${worker.stdout()}\n${worker.stderr()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const started = worker.stdout().split('\n').map((l) => (l.startsWith('{') ? JSON.parse(l) : {})).find((r) => r.msg === 'workers started');
      expect(started).toMatchObject({ threads: 1, executionProviders: ['cpu'] });
      expect(started).not.toHaveProperty('cudaDevice');
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      expect(worker.stderr()).toBe('');
    } finally {
      worker.child.kill('SIGKILL');
    }
  });
});
