export * from './tensor';
export { toHalfBits, fromHalfBits, float32ToFloat16, float16ToFloat32 } from './float16';
