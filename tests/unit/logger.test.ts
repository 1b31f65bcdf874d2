import { Logger, redactText } from '../../src/util/logger';

describe('Logger', () => {
  it('writes one JSON object per line and never a secret', () => {
    const lines: string[] = [];
    const log = new Logger('info', { service: 't' }, (line) => lines.push(line));
    log.info('hello', {
      authorization: 'Bearer sfk_abcdefghijklmnop',
      secret: 'sfk_abcdefghijklmnop',
      nested: { password: 'hunter2', note: 'key sfk_abcdefghijklmnopq leaked' },
      url: 'postgres://user:pa55word@db:5432/x',
    });
    log.debug('not at info');
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]);
    expect(record).toMatchObject({ level: 'info', msg: 'hello', service: 't' });
    expect(lines[0]).not.toMatch(/sfk_abcdefgh|hunter2|pa55word/);
    expect(record.url).toBe('postgres://user:[redacted]@db:5432/x');
  });

  it('redacts keys inside error messages', () => {
    expect(redactText('bad key sfp_0123456789abcdef')).toBe('bad key [redacted-key]');
  });
});
