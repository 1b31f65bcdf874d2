/**
 * Field-by-field reading of the manifest's JSON: every failure names the field's path and the
 * value found, and nothing is defaulted with `||` (0, false and "" stay what they are).
 */
import { PackError } from './pack-errors';

export type Obj = Record<string, unknown>;

export class Reader {
  constructor(private readonly where: string) {}

  fail(path: string, what: string, got: unknown): never {
    throw new PackError(`${this.where}: ${path} ${what}, got ${JSON.stringify(got)}`);
  }

  obj(v: unknown, path: string): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'must be an object', v);
    return v as Obj;
  }

  str(o: Obj, key: string, path: string): string {
    const v = o[key];
    if (typeof v !== 'string' || v.length === 0) this.fail(`${path}${key}`, 'must be a non-empty string', v);
    return v as string;
  }

  optStr(o: Obj, key: string, path: string): string | undefined {
    return o[key] === undefined ? undefined : this.str(o, key, path);
  }

  int(o: Obj, key: string, path: string, min: number): number {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) this.fail(`${path}${key}`, `must be an integer >= ${min}`, v);
    return v as number;
  }

  num(o: Obj, key: string, path: string, ok: (v: number) => boolean, what: string): number {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) this.fail(`${path}${key}`, `must be ${what}`, v);
    return v as number;
  }

  bool(o: Obj, key: string, path: string): boolean {
    const v = o[key];
    if (typeof v !== 'boolean') this.fail(`${path}${key}`, 'must be true or false', v);
    return v as boolean;
  }

  oneOf<T extends string>(o: Obj, key: string, path: string, allowed: readonly T[]): T {
    const v = o[key];
    if (typeof v !== 'string' || !allowed.includes(v as T)) this.fail(`${path}${key}`, `must be one of ${allowed.join(', ')}`, v);
    return v as T;
  }
}
