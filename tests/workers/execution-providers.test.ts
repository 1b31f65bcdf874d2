/** @jest-environment ./tests/engine/ort-environment.js */
/**
 * GPU configuration of the compute threads: STORYFORGE_EXECUTION_PROVIDERS and
 * STORYFORGE_CUDA_DEVICE as read from the environment, the providers and device reaching the
 * sessions a compute thread opens, and the start-up check that refuses `cuda` on a machine that
 * cannot create a CUDA session, with one line saying what is missing.
 *
 * This machine has no GPU and onnxruntime-node's CUDA provider libraries are not installed
 * (package.json denies its install script), so the real check can only be seen refusing here;
 * a working GPU host and a host without cuDNN are played by stand-ins for onnxruntime-node in
 * the check's child process (tests/workers/fake-ort).
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadConfig } from '../../src/config';
import { StartupError } from '../../src/util/startup-error';
import { Logger } from '../../src/util/logger';
import { ComputePool } from '../../src/workers/compute/compute-pool';
import {
  ProviderUnavailable, checkExecutionProviders, cudaRefusal, identityModel, ortErrors, probeCuda,
} from '../../src/workers/compute/provider-check';
import { cudaInstalled, notInstalledLine } from './cuda-refusal-line';

const onThisMachine = cudaInstalled ? it.skip : it;
const FAKE = (name: string) => join(__dirname, 'fake-ort', `${name}.js`);
const PACK = join(__dirname, '..', '..', 'models', 'packs', 'story-world');

jest.setTimeout(180_000);

describe('configuration', () => {
  it('reads STORYFORGE_EXECUTION_PROVIDERS in order, cpu by default', () => {
    expect(loadConfig({}).executionProviders).toEqual(['cpu']);
    expect(loadConfig({ STORYFORGE_EXECUTION_PROVIDERS: '' }).executionProviders).toEqual(['cpu']);
    expect(loadConfig({ STORYFORGE_EXECUTION_PROVIDERS: 'cuda,cpu' }).executionProviders).toEqual(['cuda', 'cpu']);
    expect(loadConfig({ STORYFORGE_EXECUTION_PROVIDERS: ' CUDA , cpu ' }).executionProviders).toEqual(['cuda', 'cpu']);
    expect(loadConfig({ STORYFORGE_EXECUTION_PROVIDERS: 'cpu,cuda' }).executionProviders).toEqual(['cpu', 'cuda']);
    expect(loadConfig({ STORYFORGE_EXECUTION_PROVIDERS: 'cuda' }).executionProviders).toEqual(['cuda']);
  });

  it.each(['gpu', 'cuda;cpu', 'cuda,tensorrt', ',', 'cpu,,webgpu'])('refuses STORYFORGE_EXECUTION_PROVIDERS=%j, naming the variable', (raw) => {
    expect(() => loadConfig({ STORYFORGE_EXECUTION_PROVIDERS: raw }))
      .toThrow(`STORYFORGE_EXECUTION_PROVIDERS must list cpu and/or cuda, comma-separated, got "${raw}"`);
  });

  it('reads STORYFORGE_CUDA_DEVICE, 0 by default, and refuses what is not a device number', () => {
    expect(loadConfig({}).cudaDeviceId).toBe(0);
    expect(loadConfig({ STORYFORGE_CUDA_DEVICE: '3' }).cudaDeviceId).toBe(3);
    for (const raw of ['-1', '1.5', 'gpu0']) {
      expect(() => loadConfig({ STORYFORGE_CUDA_DEVICE: raw })).toThrow(`STORYFORGE_CUDA_DEVICE must be a non-negative integer, got "${raw}"`);
    }
  });
});

describe('the CUDA check', () => {
  it("asks nothing of ONNX Runtime when cuda is not configured", async () => {
    // A module that does not exist: the check would fail if it ran.
    const options = { ortModule: join(__dirname, 'fake-ort', 'missing.js') };
    await expect(checkExecutionProviders({ executionProviders: ['cpu'], cudaDeviceId: 0 }, options)).resolves.toBeUndefined();
  });

  it('runs a valid one-node model (the same bytes run on the CPU here)', async () => {
    const session = await ort.InferenceSession.create(identityModel(), { executionProviders: ['cpu'] });
    const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([7]), [1]) });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([7]);
    await session.release();
  });

  it('passes on a working GPU host, asking for the CUDA provider alone on the configured device', async () => {
    const gpuHost = { ortModule: FAKE('gpu-host'), env: { ...process.env, FAKE_ORT_DEVICE: '2' } };
    expect(await probeCuda(2, gpuHost)).toEqual({ ok: true });
    await expect(checkExecutionProviders({ executionProviders: ['cuda', 'cpu'], cudaDeviceId: 2 }, gpuHost)).resolves.toBeUndefined();
    // The stand-in expects device 2: a check of device 0 asks for device 0, and fails there.
    expect(await probeCuda(0, gpuHost)).toMatchObject({ ok: false, message: 'the check asked for [{"name":"cuda","deviceId":0}], not [{"name":"cuda","deviceId":2}]' });
  });

  onThisMachine('refuses here, with cpu after cuda too, in one line naming the missing library and what to do', async () => {
    const probe = await probeCuda(0);
    expect(probe.ok).toBe(false);
    for (const executionProviders of [['cuda'], ['cuda', 'cpu']] as const) {
      const refusal = checkExecutionProviders({ executionProviders, cudaDeviceId: 0 });
      await expect(refusal).rejects.toBeInstanceOf(ProviderUnavailable);
      await expect(refusal).rejects.toBeInstanceOf(StartupError);
      await expect(refusal).rejects.toThrow(notInstalledLine(0));
    }
    await expect(checkExecutionProviders({ executionProviders: ['cuda', 'cpu'], cudaDeviceId: 1 })).rejects.toThrow(notInstalledLine(1));
    expect(notInstalledLine(0)).not.toContain('\n');
  });

  it('names the missing CUDA library when the provider is installed but cuDNN is not', async () => {
    const refusal = checkExecutionProviders({ executionProviders: ['cuda', 'cpu'], cudaDeviceId: 0 }, { ortModule: FAKE('missing-cudnn') });
    await expect(refusal).rejects.toThrow(
      'STORYFORGE_EXECUTION_PROVIDERS asks for cuda, but ONNX Runtime cannot create a CUDA session on device 0: the CUDA libraries are missing: '
      + 'libonnxruntime_providers_cuda.so needs libcudnn.so.9, which the dynamic loader cannot find. Install the CUDA 12 runtime libraries and cuDNN 9 '
      + "(what ONNX Runtime 1.30's CUDA provider is built against) where the loader finds them (ldconfig or LD_LIBRARY_PATH), "
      + 'or set STORYFORGE_EXECUTION_PROVIDERS=cpu.');
  });

  it('gives up on a check that hangs', async () => {
    const probe = await probeCuda(0, { ortModule: FAKE('hangs'), timeoutMs: 1500 });
    expect(probe).toMatchObject({ ok: false, message: 'the check did not finish within 2 s' });
  });

  it('points at the driver and the device number when the provider loads but the device does not answer', () => {
    const line = cudaRefusal(3, { ok: false, message: 'CUDA failure 101: invalid device ordinal ; GPU=3 ; expr=cudaSetDevice(info_.device_id);', log: [] });
    expect(line).toBe('STORYFORGE_EXECUTION_PROVIDERS asks for cuda, but ONNX Runtime cannot create a CUDA session on device 3: '
      + 'CUDA failure 101: invalid device ordinal ; GPU=3 ; expr=cudaSetDevice(info_.device_id);. '
      + 'Check the NVIDIA driver (`nvidia-smi` should list the GPU) and that device 3 exists for this process '
      + '(STORYFORGE_CUDA_DEVICE counts the devices CUDA_VISIBLE_DEVICES leaves visible), or set STORYFORGE_EXECUTION_PROVIDERS=cpu.');
  });

  it("reads ONNX Runtime's error records out of its coloured log", () => {
    const log = 'W noise\n\x1b[1;31m2026-11-30 17:13:17.1 [E:onnxruntime:onnxruntime-node, provider_bridge_ort.cc:2146 Create] /src/x.cc:1 f() '
      + '[ONNXRuntimeError] : 1 : FAIL : Failed to load library /a/b.so with error: /a/b.so: nope\n\x1b[m'
      + '\x1b[0;93m2026-11-30 [W:onnxruntime:, x.cc:1 g] a warning\x1b[m\n'
      + '\x1b[1;31m2026-11-30 [E:onnxruntime:, y.cc:2 h] something else\x1b[m\n';
    expect(ortErrors(log)).toEqual(['Failed to load library /a/b.so with error: /a/b.so: nope', 'something else']);
  });
});

describe('compute threads', () => {
  const quiet = new Logger('error', {}, () => undefined);
  const settings = { scheduler: 'ddim' as const, steps: 2, guidance: 5 };
  const frame = { prompt: 'a person waving on the beach', negativePrompt: '', seed: 3, banks: [] };

  it('render on the story-world pack with the cpu provider', async () => {
    const pool = new ComputePool({ size: 1, ortThreads: 1, executionProviders: ['cpu'], cudaDeviceId: 0 }, quiet);
    try {
      const rendered = await pool.run({ op: 'render', packDir: PACK, settings, judge: false, banks: [], frames: [frame] });
      if (rendered.type !== 'rendered') throw new Error(rendered.type);
      expect(rendered.images.map((i) => [i.width, i.height])).toEqual([[32, 32]]);
    } finally {
      await pool.close();
    }
  });

  onThisMachine('open their sessions with the configured providers and device', async () => {
    // No CUDA here: the thread's first session fails, and its error names what the thread asked for.
    const pool = new ComputePool({ size: 1, ortThreads: 1, executionProviders: ['cuda', 'cpu'], cudaDeviceId: 1 }, quiet);
    try {
      await expect(pool.run({ op: 'render', packDir: PACK, settings, judge: false, banks: [], frames: [frame] }))
        .rejects.toThrow(/cannot create a session with providers \[cuda \(device 1\), cpu\]/);
    } finally {
      await pool.close();
    }
  });
});
