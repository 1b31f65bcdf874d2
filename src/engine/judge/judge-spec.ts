/**
 * The manifest's `judge` section: what each output head of judge.onnx names (label lists in
 * class order) and which heads are the character's identity. The pack parser keeps the
 * section as it is (it is optional and pack-specific); this reads it with clear errors.
 */
export interface JudgeSpec {
  /** Head name -> labels, index = predicted class. */
  heads: Record<string, string[]>;
  /** Heads that describe who the character is (hair, clothes...), not what it does. */
  identity: string[];
}

export function parseJudgeSpec(raw: unknown, where = 'manifest.json judge'): JudgeSpec {
  const fail = (what: string): never => {
    throw new Error(`${where}: ${what}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('must be an object');
  const { heads, identity } = raw as { heads?: unknown; identity?: unknown };
  if (typeof heads !== 'object' || heads === null || Array.isArray(heads)) return fail('heads must be an object');
  const parsed: Record<string, string[]> = {};
  for (const [name, labels] of Object.entries(heads)) {
    if (!Array.isArray(labels) || labels.length < 2 || labels.some((l) => typeof l !== 'string')) fail(`heads.${name} must list at least two labels`);
    parsed[name] = labels as string[];
  }
  if (!Array.isArray(identity) || identity.some((k) => typeof k !== 'string' || !(k in parsed))) fail('identity must list head names');
  return { heads: parsed, identity: identity as string[] };
}
