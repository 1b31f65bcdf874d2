/**
 * Whether this machine can run the execution providers the compute threads are configured with,
 * checked once before they start, so that a GPU host missing a piece refuses to start with one
 * line saying what is missing, instead of failing every job it takes.
 *
 * Only `cuda` needs a check (`cpu` is always there). The check creates a session of a one-node
 * model with the CUDA provider alone, on the configured device, and runs it once: with `cpu`
 * after `cuda` ONNX Runtime may give the nodes to the CPU and hide a missing CUDA provider. It
 * runs in a child process, because ONNX Runtime tells why a provider library did not load (which
 * file, which missing dependency) only in its own log on stderr, which a child's stderr lets us
 * read; and so the API process's main thread still never loads ONNX Runtime.
 */
import { execFile } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import { Writer } from 'protobufjs';
import type { ExecutionProvider } from '../../engine/runtime/runtime-config';
import { StartupError } from '../../util/startup-error';

export interface ProviderSettings {
  executionProviders: readonly ExecutionProvider[];
  cudaDeviceId: number;
}

export class ProviderUnavailable extends StartupError {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderUnavailable';
  }
}

/** What the check saw: `message` is ONNX Runtime's error, `log` its error lines from stderr. */
export type CudaProbe = { ok: true } | { ok: false; message: string; log: string[] };

export interface ProbeOptions {
  /** The onnxruntime-node entry the child loads (tests point it elsewhere). */
  ortModule?: string;
  /** The child's environment; this process's by default. */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

const MARK = 'storyforge-cuda-probe:';

/** The child: argv = [ort module, device id, model (base64)]; prints MARK + JSON. */
const CHILD = `
const [ortModule, device, model] = process.argv.slice(1);
const say = (r) => process.stdout.write(${JSON.stringify(MARK)} + JSON.stringify(r) + '\\n');
(async () => {
  const ort = require(ortModule);
  const session = await ort.InferenceSession.create(Buffer.from(model, 'base64'), {
    executionProviders: [{ name: 'cuda', deviceId: Number(device) }],
  });
  const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([7]), [1]) });
  if (out.y.data[0] !== 7) throw new Error('the CUDA session ran but answered ' + out.y.data[0] + ' for 7');
  await session.release();
  say({ ok: true });
})().catch((e) => {
  say({ ok: false, message: String((e && e.message) || e) });
  process.exitCode = 1;
});
`;

function message(build: (w: Writer) => void): Uint8Array {
  const w = Writer.create();
  build(w);
  return w.finish();
}

/** A float tensor of shape [1] (ValueInfoProto). */
function valueInfo(name: string): Uint8Array {
  const dim = message((w) => w.uint32((1 << 3) | 0).int64(1));
  const shape = message((w) => w.uint32((1 << 3) | 2).bytes(dim));
  const tensor = message((w) => w.uint32((1 << 3) | 0).int32(1).uint32((2 << 3) | 2).bytes(shape));
  const type = message((w) => w.uint32((1 << 3) | 2).bytes(tensor));
  return message((w) => w.uint32((1 << 3) | 2).string(name).uint32((2 << 3) | 2).bytes(type));
}

/** ModelProto (IR 8, opset 13) of one Identity node, y = x; ONNX Runtime's CUDA provider runs it. */
export function identityModel(): Uint8Array {
  const node = message((w) => w.uint32((1 << 3) | 2).string('x').uint32((2 << 3) | 2).string('y').uint32((3 << 3) | 2).string('probe').uint32((4 << 3) | 2).string('Identity'));
  const graph = message((w) => w.uint32((1 << 3) | 2).bytes(node).uint32((2 << 3) | 2).string('probe')
    .uint32((11 << 3) | 2).bytes(valueInfo('x')).uint32((12 << 3) | 2).bytes(valueInfo('y')));
  const opset = message((w) => w.uint32((1 << 3) | 2).string('').uint32((2 << 3) | 0).int64(13));
  return message((w) => w.uint32((1 << 3) | 0).int64(8).uint32((7 << 3) | 2).bytes(graph).uint32((8 << 3) | 2).bytes(opset));
}

/** ONNX Runtime's error records in a log, without colours, paths of its sources or prefixes. */
export function ortErrors(stderr: string): string[] {
  const out: string[] = [];
  for (const raw of stderr.replace(/\x1b\[[0-9;]*m/g, '').split('\n')) {
    if (!/\[E:onnxruntime/.test(raw)) continue;
    const fail = /: FAIL : (.*)$/.exec(raw);
    const text = (fail ? fail[1]! : raw.slice(raw.lastIndexOf('] ') + 2)).trim();
    if (text && !out.includes(text)) out.push(text);
  }
  return out;
}

/** Creates and runs a one-node session with the CUDA provider alone, in a child process. */
export function probeCuda(deviceId: number, options: ProbeOptions = {}): Promise<CudaProbe> {
  const ortModule = options.ortModule ?? require.resolve('onnxruntime-node');
  const timeoutMs = options.timeoutMs ?? 120_000;
  const model = Buffer.from(identityModel()).toString('base64');
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', CHILD, ortModule, String(deviceId), model], { env: options.env ?? process.env, timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      const log = ortErrors(stderr);
      const line = stdout.split('\n').reverse().find((l) => l.startsWith(MARK));
      if (line) {
        const said = JSON.parse(line.slice(MARK.length)) as { ok: boolean; message?: string };
        resolve(said.ok ? { ok: true } : { ok: false, message: said.message ?? 'unknown error', log });
        return;
      }
      const how = error?.killed ? `did not finish within ${Math.round(timeoutMs / 1000)} s`
        : `ended with ${error?.signal ? `signal ${error.signal}` : `exit code ${String(error?.code ?? 0)}`} before answering`;
      const last = stderr.replace(/\x1b\[[0-9;]*m/g, '').trim().split('\n').pop()?.trim();
      resolve({ ok: false, message: `the check ${how}${last ? ` (${last})` : ''}`, log });
    });
  });
}

/** Libraries of the CUDA toolkit and cuDNN that ONNX Runtime's CUDA provider loads. */
const CUDA_LIBRARY = /\b(lib(?:cudnn\w*|cublas\w*|cudart|cufft|curand|nvrtc\w*|nvJitLink|cupti)\.so[.\d]*)/;

/** The one line an operator reads when the check fails: what is missing, and what to do. */
export function cudaRefusal(deviceId: number, probe: Extract<CudaProbe, { ok: false }>, ortModule = require.resolve('onnxruntime-node')): string {
  const packageDir = join(dirname(ortModule), '..');
  const install = `node ${join(packageDir, 'script', 'install.js')} --onnxruntime-node-install-cuda=v12`;
  const loading = probe.log.map((l) => /Failed to load library (\S+) with error: (.*)$/.exec(l)).find((m) => m !== null);
  let reason = probe.message;
  let fix = 'Check the NVIDIA driver (`nvidia-smi` should list the GPU) and that device '
    + `${deviceId} exists for this process (STORYFORGE_CUDA_DEVICE counts the devices CUDA_VISIBLE_DEVICES leaves visible)`;
  if (loading) {
    const path = loading[1]!;
    const why = loading[2]!;
    const file = basename(path);
    const cudaLibrary = CUDA_LIBRARY.exec(why);
    if (cudaLibrary && /cannot open shared object/.test(why)) {
      reason = `the CUDA libraries are missing: ${file} needs ${cudaLibrary[1]}, which the dynamic loader cannot find`;
      fix = 'Install the CUDA 12 runtime libraries and cuDNN 9 (what ONNX Runtime 1.30\'s CUDA provider is built against) where the loader finds them (ldconfig or LD_LIBRARY_PATH)';
    } else if (file.startsWith('libonnxruntime_providers_') && why.includes(path)) {
      reason = `the CUDA build of ONNX Runtime is not installed: ${dirname(path)} has no ${file}`;
      fix = `Run \`${install}\` on this host (it downloads onnxruntime-node's CUDA 12 provider libraries, which npm skips: package.json denies the package's install script) and install the CUDA 12 runtime and cuDNN 9`;
    } else {
      reason = `${file} does not load: ${why.split(path).join(file)}`;
    }
  } else if (probe.log.length > 0 && !probe.message.includes(probe.log[probe.log.length - 1]!)) {
    reason = `${probe.message} (${probe.log[probe.log.length - 1]})`;
  }
  const line = `STORYFORGE_EXECUTION_PROVIDERS asks for cuda, but ONNX Runtime cannot create a CUDA session on device ${deviceId}: `
    + `${reason.replace(/[.\s]+$/, '')}. ${fix}, or set STORYFORGE_EXECUTION_PROVIDERS=cpu.`;
  return line.replace(/\s*\n\s*/g, ' ');
}

const checked = new Map<number, Promise<CudaProbe>>();

/**
 * Resolves when the compute threads can use the configured providers; otherwise rejects with
 * ProviderUnavailable (a StartupError: the commands print its one line and exit 1). Each device
 * is checked once per process.
 */
export async function checkExecutionProviders(settings: ProviderSettings, options: ProbeOptions = {}): Promise<void> {
  if (!settings.executionProviders.includes('cuda')) return;
  const device = settings.cudaDeviceId;
  // Kept per device, except for checks with options of their own (tests).
  const keep = Object.keys(options).length === 0;
  let probe = keep ? checked.get(device) : undefined;
  if (!probe) {
    probe = probeCuda(device, options);
    if (keep) checked.set(device, probe);
  }
  const result = await probe;
  if (!result.ok) throw new ProviderUnavailable(cudaRefusal(device, result, options.ortModule));
}
