import { AppError, ErrorCode } from '../../src/domain/common/errors';
import { parseScript } from '../../src/domain/stories/script-parser';

const cast = ['Mira', 'Tomo', 'Old Ben'];

function failure(script: string, names = cast): AppError {
  try {
    parseScript(script, names);
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected the script to be rejected');
}

describe('parseScript', () => {
  it('makes one frame per non-blank line, keeping line numbers', () => {
    const frames = parseScript('first frame\n\n   \nsecond frame\r\nthird', cast);
    expect(frames.map((f) => [f.line, f.prompt])).toEqual([[1, 'first frame'], [4, 'second frame'], [5, 'third']]);
  });

  it('ends the prompt at the first # and takes the rest as the caption, as StoryDiffusion does', () => {
    const [frame] = parseScript('a tagged prompt # The caption: #1 in town. ', cast);
    expect(frame.prompt).toBe('a tagged prompt');
    expect(frame.caption).toBe('The caption: #1 in town.');
    expect(parseScript('no caption here', cast)[0].caption).toBe('');
  });

  it('defaults to the whole cast', () => {
    const [frame] = parseScript('a quiet street at night #Night.', cast);
    expect(frame).toMatchObject({ noCharacter: false, characterNames: null });
  });

  it('reads [Name] tags as the cast members that appear, case-insensitively, as bare names in the prompt', () => {
    const [frame] = parseScript('[mira] and [OLD BEN] meet [Mira] at the bridge #Hello.', cast);
    expect(frame.characterNames).toEqual(['Mira', 'Old Ben']);
    expect(frame.prompt).toBe('Mira and Old Ben meet Mira at the bridge');
    expect(frame.caption).toBe('Hello.');
  });

  it('reads [NC] as a frame without characters and drops the tag from the prompt', () => {
    const [frame] = parseScript('[NC] a treasure chest in a cave #Shiny.', cast);
    expect(frame).toMatchObject({ noCharacter: true, characterNames: null, prompt: 'a treasure chest in a cave' });
  });

  it('only reads tags before the caption', () => {
    const [frame] = parseScript('[Tomo] runs #[Mira] is not tagged here', cast);
    expect(frame.characterNames).toEqual(['Tomo']);
    expect(frame.caption).toBe('[Mira] is not tagged here');
  });

  it.each([
    ['ok\n[Nobody] waves', 2, "[Nobody] is not in the story's cast"],
    ['ok\nok\n[NC] [Mira] waves', 3, '[NC] cannot be combined'],
    ['[NC] #caption only', 1, 'the prompt is empty'],
    ['a [ broken tag', 1, 'unbalanced'],
    ['fine\n[] empty', 2, 'empty [] tag'],
    [`x\n${'p'.repeat(1001)}`, 2, 'prompt is longer than 1000'],
    [`x #${'c'.repeat(501)}`, 1, 'caption is longer than 500'],
  ])('rejects %j naming line %i', (script, line, message) => {
    const error = failure(script);
    expect(error).toBeInstanceOf(AppError);
    expect(error.code).toBe(ErrorCode.BAD_USER_INPUT);
    expect(error.field).toBe('script');
    expect(error.message).toContain(`line ${line}:`);
    expect(error.message).toContain(message);
  });

  it('rejects names when the story has no cast', () => {
    expect(failure('[Mira] alone', []).message).toBe("line 1: [Mira] is not in the story's cast");
  });

  it('allows 200 frames and refuses 201', () => {
    expect(parseScript(Array(200).fill('frame').join('\n'), cast)).toHaveLength(200);
    const error = failure(Array(201).fill('frame').join('\n'));
    expect(error.message).toContain('at most 200');
  });
});
