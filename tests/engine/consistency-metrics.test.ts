import { adherence, identityAgreement, parseJudgeSpec } from '../../src/engine/judge';

// judge.py's metrics on hand-made predictions (values worked out by hand).
const identity = ['hair', 'shirt'];
const labels = { hair: ['black', 'red'], shirt: ['blue', 'green'], pose: ['standing', 'waving'], scene: ['city', 'beach'] };

describe('consistency metrics', () => {
  it('identity agreement: share of equal heads over pairs, share of pairs with all equal', () => {
    const preds = [{ hair: 1, shirt: 0 }, { hair: 1, shirt: 0 }, { hair: 1, shirt: 1 }];
    // pairs (0,1): 2/2, (0,2): 1/2, (1,2): 1/2 -> attributes 2/3, all 1/3
    const a = identityAgreement(preds, identity);
    expect(a.attributes).toBeCloseTo(2 / 3, 12);
    expect(a.all).toBeCloseTo(1 / 3, 12);
    expect(() => identityAgreement([preds[0]!], identity)).toThrow('at least two frames');
  });

  it('adherence: pose and scene as asked, and everything asked', () => {
    const preds = [
      { hair: 1, shirt: 0, pose: 1, scene: 0 }, // waving in the city, red hair
      { hair: 0, shirt: 0, pose: 1, scene: 1 }, // waving on the beach, black hair
      { hair: 1, shirt: 0, pose: 0, scene: 1 }, // standing on the beach
    ];
    const asked: Record<string, string>[] = [
      { pose: 'waving', scene: 'city', hair: 'red' },
      { pose: 'waving', scene: 'beach', hair: 'red' },
      { pose: 'waving', scene: 'beach' },
    ];
    expect(adherence(preds, asked, labels)).toEqual({ actions: 2 / 3, full: 1 / 3 });
    expect(() => adherence(preds, asked.slice(1), labels)).toThrow('one request per frame');
    expect(() => adherence([{ pose: 0, scene: 0 }], [{ pose: 'standing', scene: 'city', hat: 'crown' }], labels)).toThrow('no head "hat"');
  });

  it("reads the manifest's judge section", () => {
    expect(parseJudgeSpec({ heads: labels, identity })).toEqual({ heads: labels, identity });
    expect(() => parseJudgeSpec({ heads: labels, identity: ['hat'] })).toThrow('identity must list head names');
    expect(() => parseJudgeSpec({ heads: { hair: ['one'] }, identity: [] })).toThrow('heads.hair must list at least two labels');
    expect(() => parseJudgeSpec(null)).toThrow('must be an object');
  });
});
