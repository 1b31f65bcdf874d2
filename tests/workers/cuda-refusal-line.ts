/**
 * What this machine's CUDA check says, exactly: onnxruntime-node is installed without its CUDA
 * provider libraries (package.json denies its install script, which downloads them).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const ORT_PACKAGE = join(dirname(require.resolve('onnxruntime-node')), '..');
export const ORT_BIN = join(ORT_PACKAGE, 'bin', 'napi-v6', process.platform, process.arch);
/** True on a host where someone ran onnxruntime-node's CUDA install: the refusals do not happen there. */
export const cudaInstalled = existsSync(join(ORT_BIN, 'libonnxruntime_providers_cuda.so'));

/** The line a machine without onnxruntime-node's CUDA build prints. */
export function notInstalledLine(device: number): string {
  return `STORYFORGE_EXECUTION_PROVIDERS asks for cuda, but ONNX Runtime cannot create a CUDA session on device ${device}: `
    + `the CUDA build of ONNX Runtime is not installed: ${ORT_BIN} has no libonnxruntime_providers_shared.so. `
    + `Run \`node ${join(ORT_PACKAGE, 'script', 'install.js')} --onnxruntime-node-install-cuda=v12\` on this host `
    + `(it downloads onnxruntime-node's CUDA 12 provider libraries, which npm skips: package.json denies the package's install script) `
    + 'and install the CUDA 12 runtime and cuDNN 9, or set STORYFORGE_EXECUTION_PROVIDERS=cpu.';
}
