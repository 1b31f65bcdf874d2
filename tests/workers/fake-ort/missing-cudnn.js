// onnxruntime-node on a host with its CUDA provider libraries but without cuDNN: ONNX Runtime
// logs which library did not load (coloured, on stderr) and the binding throws a vaguer error.
module.exports = {
  InferenceSession: {
    create: async () => {
      const lib = require('node:path').join(__dirname, 'bin', 'libonnxruntime_providers_cuda.so');
      process.stderr.write(`\x1b[1;31m2026-11-30 17:13:17.199812620 [E:onnxruntime:onnxruntime-node, provider_bridge_ort.cc:2146 Create] `
        + `/onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:1988 onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() `
        + `[ONNXRuntimeError] : 1 : FAIL : Failed to load library ${lib} with error: libcudnn.so.9: cannot open shared object file: No such file or directory\n\x1b[m`);
      throw new Error('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library');
    },
  },
};
