// A stand-in for onnxruntime-node on a working GPU host, for the CUDA check's child process: it
// accepts only what the check must ask for (the CUDA provider alone, on the device given in
// FAKE_ORT_DEVICE) and runs the model on the real CPU build.
const ort = require(require.resolve('onnxruntime-node', { paths: [__dirname] }));

const expected = JSON.stringify([{ name: 'cuda', deviceId: Number(process.env.FAKE_ORT_DEVICE ?? 0) }]);

module.exports = {
  Tensor: ort.Tensor,
  InferenceSession: {
    create: async (model, options) => {
      const asked = JSON.stringify(options.executionProviders);
      if (asked !== expected) throw new Error(`the check asked for ${asked}, not ${expected}`);
      return ort.InferenceSession.create(model, { ...options, executionProviders: ['cpu'] });
    },
  },
};
