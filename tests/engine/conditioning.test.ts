import { concatChannels, timeIds, zeroEmptyNegatives } from '../../src/engine/conditioning';
import { TIME_ID_NAMES } from '../../src/engine/pack';
import { float32 } from '../../src/engine/tensor';

describe('SDXL conditioning pieces', () => {
  it('joins two encoders hidden states token by token, the first encoder first', () => {
    // [B=2, L=2, 2] and [2, 2, 3]: values say (row, token, encoder, channel).
    const a = float32([2, 2, 2], [100, 101, 110, 111, 200, 201, 210, 211]);
    const b = float32([2, 2, 3], [1000, 1001, 1002, 1010, 1011, 1012, 2000, 2001, 2002, 2010, 2011, 2012]);
    const c = concatChannels(a, b);
    expect(c.dims).toEqual([2, 2, 5]);
    expect(Array.from(c.data)).toEqual([100, 101, 1000, 1001, 1002, 110, 111, 1010, 1011, 1012, 200, 201, 2000, 2001, 2002, 210, 211, 2010, 2011, 2012]);
    expect(() => concatChannels(a, float32([2, 3, 3]))).toThrow(/cannot join hidden states \[2, 2, 2\] and \[2, 3, 3\]/);
  });

  it('builds time_ids height before width, original and target the rendered size by default', () => {
    const order = [...TIME_ID_NAMES];
    expect(timeIds({ order, originalSize: null, cropTopLeft: { top: 0, left: 0 } }, { height: 1216, width: 832 })).toEqual([1216, 832, 0, 0, 1216, 832]);
    expect(timeIds({ order, originalSize: { height: 4096, width: 2048 }, cropTopLeft: { top: 16, left: 8 } }, { height: 1024, width: 512 }))
      .toEqual([4096, 2048, 16, 8, 1024, 512]);
    expect(timeIds({ order: ['target_width', 'crop_left'], originalSize: null, cropTopLeft: { top: 1, left: 2 } }, { height: 64, width: 32 })).toEqual([32, 2]);
  });

  it('zeroes only the negative rows whose prompt is empty', () => {
    const t = float32([4, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    zeroEmptyNegatives(t, ['', 'blurry']);
    expect(Array.from(t.data)).toEqual([0, 0, 3, 4, 5, 6, 7, 8]);
  });
});
