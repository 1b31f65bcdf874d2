/**
 * The parts of the ONNX protobuf schema the CSA patch reads and writes, for protobufjs.
 *
 * Field numbers are ONNX's (onnx/onnx.proto, IR version 8 and later). The patch never decodes
 * and re-encodes a whole model: it splices at the wire level (see onnx-wire.ts), so fields
 * this subset does not name (newer ONNX additions, training info, functions, subgraphs) are
 * carried over byte for byte. Messages are decoded here only to be read, and only the new
 * nodes, inputs, outputs and initializers the patch adds are encoded from these types.
 */
import * as protobuf from 'protobufjs';

const SCHEMA = `
syntax = "proto2";
package onnx;

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional bytes raw_data = 9;
  repeated StringStringEntryProto external_data = 13;
  optional int32 data_location = 14;
}

message AttributeProto {
  optional string name = 1;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  optional int32 type = 20;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  repeated AttributeProto attribute = 5;
  optional string domain = 7;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
}
`;

const root = protobuf.parse(SCHEMA, { keepCase: true }).root;

export const TensorProtoType = root.lookupType('onnx.TensorProto');
export const NodeProtoType = root.lookupType('onnx.NodeProto');
export const ValueInfoProtoType = root.lookupType('onnx.ValueInfoProto');

/** ONNX element types the patch deals with (TensorProto.DataType). */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, FLOAT16: 10, DOUBLE: 11, BFLOAT16: 16 } as const;

/** Graph field numbers (GraphProto) and the model's graph field (ModelProto.graph). */
export const Field = {
  MODEL_GRAPH: 7,
  GRAPH_NODE: 1,
  GRAPH_INITIALIZER: 5,
  GRAPH_INPUT: 11,
  GRAPH_OUTPUT: 12,
  GRAPH_VALUE_INFO: 13,
  NODE_INPUT: 1,
} as const;

type Int64 = number | { toNumber(): number };

export interface AttributeMsg {
  name: string;
  i?: Int64;
  ints?: Int64[];
  t?: TensorMsg;
  type?: number;
}

export interface NodeMsg {
  input: string[];
  output: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute: AttributeMsg[];
}

export interface TensorMsg {
  dims: Int64[];
  data_type?: number;
  int64_data?: Int64[];
  int32_data?: number[];
  name?: string;
  raw_data?: Uint8Array;
  external_data?: { key: string; value: string }[];
  data_location?: number;
}

export interface ValueInfoMsg {
  name: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim: { dim_value?: Int64; dim_param?: string }[] } } };
}

export function int(v: Int64 | undefined): number {
  if (v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

export function decodeNode(bytes: Uint8Array): NodeMsg {
  return NodeProtoType.toObject(NodeProtoType.decode(bytes), { arrays: true, defaults: false }) as unknown as NodeMsg;
}

export function decodeTensor(bytes: Uint8Array): TensorMsg {
  return TensorProtoType.toObject(TensorProtoType.decode(bytes), { arrays: true, defaults: false }) as unknown as TensorMsg;
}

export function decodeValueInfo(bytes: Uint8Array): ValueInfoMsg {
  return ValueInfoProtoType.toObject(ValueInfoProtoType.decode(bytes), { arrays: true, defaults: false }) as unknown as ValueInfoMsg;
}

export function encodeNode(node: { input: string[]; output: string[]; name: string; op_type: string; attribute?: { name: string; i?: number; ints?: number[]; type: number }[] }): Uint8Array {
  return NodeProtoType.encode(NodeProtoType.fromObject(node)).finish();
}

export function encodeValueInfo(name: string, elemType: number, dims: (number | string)[]): Uint8Array {
  const dim = dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return ValueInfoProtoType.encode(ValueInfoProtoType.fromObject({ name, type: { tensor_type: { elem_type: elemType, shape: { dim } } } })).finish();
}

export function encodeInt64Initializer(name: string, values: number[]): Uint8Array {
  const raw = new Uint8Array(new BigInt64Array(values.map((v) => BigInt(v))).buffer); // ONNX raw_data is little-endian
  return TensorProtoType.encode(TensorProtoType.fromObject({ name, dims: [values.length], data_type: DataType.INT64, raw_data: raw })).finish();
}

/** AttributeProto.AttributeType values used by the new nodes. */
export const AttrType = { INT: 2, INTS: 7 } as const;
