/** @jest-environment ./tests/engine/ort-environment.js */
/**
 * A pack whose UNet keeps its weights in an external data file (as SDXL's does), opened with the
 * CSA patch: by many compute threads at once, and by a user who cannot write the pack folder (the
 * Docker image copies packs as root and runs as `node`). The patched graph must not be written
 * into the pack folder, where threads would overwrite it under each other's feet.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { plainCsaFeeds } from '../../src/engine/csa';
import { loadPack, openPack } from '../../src/engine/pack';
import { Rng } from '../../src/engine/random';
import { ModelSession, Runtime } from '../../src/engine/runtime';
import { Float32Tensor, float32 } from '../../src/engine/tensor';
import { toExternalData } from '../support/external-data';
import { canRunAsNobody } from '../support/run-as-nobody';

jest.setTimeout(600_000);

const ROOT = join(__dirname, '../..');
const TS_HOOK = join(ROOT, 'tests/support/ts-register.cjs');
const OPENER = join(__dirname, 'open-pack-worker.ts');
const THREADS = 8;
const OPENS_PER_THREAD = 4;

/** Every file of the folder with its size and modification time. */
function listing(dir: string): string[] {
  return readdirSync(dir).sort().map((name) => {
    const s = statSync(join(dir, name));
    return `${name} ${s.size} ${s.mtimeMs}`;
  });
}

function openInThread(packDir: string, opens: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(`require(${JSON.stringify(TS_HOOK)}); require(${JSON.stringify(OPENER)});`,
      { eval: true, workerData: { packDir, opens } });
    worker.once('message', (errors: string[]) => {
      resolve(errors);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

describe('a pack with external UNet weights', () => {
  let root: string;
  let pack: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'sf-extpack-'));
    pack = join(root, 'pack');
    cpSync(join(ROOT, 'models/packs/sd15-tiny'), pack, { recursive: true });
    const { graph, data } = toExternalData(readFileSync(join(pack, 'unet.onnx')), 'unet.onnx.data');
    writeFileSync(join(pack, 'unet.onnx'), graph);
    writeFileSync(join(pack, 'unet.onnx.data'), data);
    expect(data.length).toBeGreaterThan(graph.length);
    chmodSync(root, 0o755);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads the external weights: the patched UNet gives the original output with no extra tokens', async () => {
    const runtime = new Runtime({ intraOpThreads: 1, interOpThreads: 1 });
    const plain = await ModelSession.create(readFileSync(join(ROOT, 'models/packs/sd15-tiny/unet.onnx')), { intraOpThreads: 1 }, 'unet');
    try {
      const opened = await openPack(await loadPack(pack), runtime, { csa: true });
      expect(opened.csa!.externalData).toBe(true);
      const { channels, height, width } = JSON.parse(readFileSync(join(pack, 'manifest.json'), 'utf8')).sample;
      const rng = new Rng(3);
      const feeds = {
        sample: float32([2, channels, height, width], rng.normal(2 * channels * height * width)),
        timestep: float32([2], [999, 500]),
        encoder_hidden_states: float32([2, 77, 32], rng.normal(2 * 77 * 32)),
      };
      const before = (await plain.run(feeds)).out_sample as Float32Tensor;
      const after = (await opened.unet.run({ ...feeds, ...plainCsaFeeds(opened.csa!.layers, 2) }, { outputs: ['out_sample'] })).out_sample as Float32Tensor;
      let diff = 0;
      for (let i = 0; i < before.data.length; i++) diff = Math.max(diff, Math.abs(after.data[i]! - before.data[i]!));
      expect(diff).toBeLessThanOrEqual(1e-5);
    } finally {
      await plain.dispose();
      await runtime.dispose();
    }
  });

  it(`opens with the CSA patch in ${THREADS} threads at once, ${OPENS_PER_THREAD} times each, writing nothing into the pack folder`, async () => {
    const before = listing(pack);
    const errors = (await Promise.all(Array.from({ length: THREADS }, () => openInThread(pack, OPENS_PER_THREAD)))).flat();
    expect(errors).toEqual([]);
    expect(listing(pack)).toEqual(before);
  });

  // Root writes anywhere whatever the mode bits say, so the read-only folder is tried as `nobody`.
  const canDropPrivileges = canRunAsNobody();
  (canDropPrivileges ? it : it.skip)('opens from a pack folder its user cannot write', () => {
    for (const name of readdirSync(pack)) chmodSync(join(pack, name), 0o444);
    chmodSync(pack, 0o555);
    const child = spawnSync('/usr/bin/setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups',
      process.execPath, '-r', TS_HOOK, OPENER, pack, '1'], { cwd: ROOT, env: { ...process.env, HOME: root }, encoding: 'utf8' });
    // stdout: the JSON list of failed opens (ONNX Runtime may warn on stderr that it cannot keep a telemetry id).
    expect({ status: child.status, failures: child.stdout, ...(child.status !== 0 && { stderr: child.stderr }) }).toEqual({ status: 0, failures: '[]' });
  });
});
