/**
 * Protobuf wire-level access to a serialized ModelProto: lists a message's fields with their
 * byte ranges and rebuilds a message from (kept or replaced) field bytes. This is what lets
 * the CSA patch work on any graph file without decoding the weights inside it or dropping
 * fields it does not know: everything not touched is copied as raw bytes.
 */
import { Reader, Writer } from 'protobufjs';

export interface WireField {
  field: number;
  wireType: number;
  /** Range of the whole field (tag, length, payload) in the parent buffer. */
  start: number;
  end: number;
  /** Range of the payload of a length-delimited field. */
  dataStart: number;
}

export function scanFields(buf: Uint8Array, from = 0, to = buf.length): WireField[] {
  const reader = Reader.create(buf.subarray(0, to));
  reader.pos = from;
  const out: WireField[] = [];
  while (reader.pos < to) {
    const start = reader.pos;
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 0) throw new Error(`invalid protobuf: field 0 at byte ${start}`);
    let dataStart = reader.pos;
    if (wireType === 2) {
      const len = reader.uint32();
      dataStart = reader.pos;
      if (dataStart + len > to) throw new Error(`invalid protobuf: field ${field} at byte ${start} runs past the end`);
      reader.pos = dataStart + len;
    } else {
      reader.skipType(wireType);
    }
    out.push({ field, wireType, start, end: reader.pos, dataStart });
  }
  return out;
}

export function payload(buf: Uint8Array, f: WireField): Uint8Array {
  return buf.subarray(f.dataStart, f.end);
}

/** The bytes of one length-delimited field (tag + length + payload). */
export function lengthDelimited(field: number, data: Uint8Array): Uint8Array {
  const w = Writer.create();
  w.uint32((field << 3) | 2);
  w.bytes(data);
  return w.finish();
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
}

/**
 * A copy of a NodeProto with its first input renamed, done on the wire so that fields the
 * schema subset does not know survive.
 */
export function renameFirstInput(node: Uint8Array, inputField: number, newName: string): Uint8Array {
  const fields = scanFields(node);
  const first = fields.find((f) => f.field === inputField);
  if (!first) throw new Error('node has no input to rename');
  return concatBytes([node.subarray(0, first.start), lengthDelimited(inputField, Buffer.from(newName, 'utf8')), node.subarray(first.end)]);
}
