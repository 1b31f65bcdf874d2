/**
 * Rewrites an ONNX model the way exporters write models over 2 GB (SDXL's UNet): every
 * initializer's raw_data of at least `minBytes` moves to one external data file, and the graph
 * keeps only its location, offset and length. Done on the wire (src/engine/csa/onnx-wire.ts), so
 * every other field is kept byte for byte.
 */
import { Field } from '../../src/engine/csa/onnx-proto';
import { concatBytes, lengthDelimited, payload, scanFields } from '../../src/engine/csa/onnx-wire';

const TENSOR_RAW_DATA = 9;
const TENSOR_EXTERNAL_DATA = 13;
const TENSOR_DATA_LOCATION = 14;

export function toExternalData(model: Uint8Array, location: string, minBytes = 1024): { graph: Uint8Array; data: Uint8Array } {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const entry = (key: string, value: string) =>
    lengthDelimited(TENSOR_EXTERNAL_DATA, concatBytes([lengthDelimited(1, Buffer.from(key)), lengthDelimited(2, Buffer.from(value))]));
  const parts = scanFields(model).map((mf) => {
    if (mf.field !== Field.MODEL_GRAPH) return model.subarray(mf.start, mf.end);
    const graph = scanFields(model, mf.dataStart, mf.end).map((gf) => {
      const whole = model.subarray(gf.start, gf.end);
      if (gf.field !== Field.GRAPH_INITIALIZER) return whole;
      const tensor = payload(model, gf);
      const fields = scanFields(tensor);
      const raw = fields.find((f) => f.field === TENSOR_RAW_DATA && f.wireType === 2);
      if (!raw || raw.end - raw.dataStart < minBytes) return whole;
      const bytes = payload(tensor, raw);
      const moved = concatBytes([
        ...fields.filter((f) => f !== raw).map((f) => tensor.subarray(f.start, f.end)),
        entry('location', location), entry('offset', String(offset)), entry('length', String(bytes.length)),
        Uint8Array.of((TENSOR_DATA_LOCATION << 3) | 0, 1), // data_location = EXTERNAL
      ]);
      chunks.push(bytes);
      offset += bytes.length;
      return lengthDelimited(Field.GRAPH_INITIALIZER, moved);
    });
    return lengthDelimited(Field.MODEL_GRAPH, concatBytes(graph));
  });
  return { graph: concatBytes(parts), data: concatBytes(chunks) };
}
