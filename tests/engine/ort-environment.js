/**
 * Jest runs each test file in its own V8 context, whose Float32Array, BigInt64Array, ... differ
 * from the ones the onnxruntime-node addon creates; onnxruntime-common's `instanceof` checks
 * then reject the addon's own output buffers. Test files that run ONNX Runtime declare
 * `@jest-environment ./tests/engine/ort-environment.js` to share the typed array constructors
 * of the main context. Production code runs in one context and never needs this.
 */
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer', 'SharedArrayBuffer', 'Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array',
  'Int32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'Uint8ClampedArray', 'DataView',
];

class OrtEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = OrtEnvironment;
