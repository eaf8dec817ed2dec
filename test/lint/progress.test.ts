import { describe, expect, it } from 'vitest';
import { createProgress, isCI, showsProgress } from '../../src/lint/progress.js';
import { useColor } from '../../src/lint/cli.js';

describe('progress', () => {
  it('writes one rewritten line on a terminal and clears it at the end', () => {
    let out = '';
    const p = createProgress({ write: (t: string) => (out += t) }, true, 60);
    p.update(1, 3, 'src/stores/a-very-long-directory-name/and-a-long-file-name.ts');
    p.update(3, 3, 'src/b.ts');
    p.done();
    const lines = out.split('\r\x1b[K');
    expect(lines).toEqual([
      '',
      expect.stringMatching(/^store-lint: analysing 1\/3 ….*and-a-long-file-name\.ts$/),
      'store-lint: analysing 3/3 src/b.ts',
      '',
    ]);
    expect(lines[1]!.length).toBeLessThan(60);
  });

  it('stays silent when not on a terminal', () => {
    let out = '';
    const p = createProgress({ write: (t: string) => (out += t) }, false);
    p.update(1, 1, 'x.ts');
    p.done();
    expect(out).toBe('');
  });
});

describe('when progress is shown', () => {
  it('counts CI as set only for a value other than empty, false and 0', () => {
    expect(isCI({})).toBe(false);
    for (const value of ['', 'false', 'FALSE', '0', ' 0 ']) expect(isCI({ CI: value })).toBe(false);
    for (const value of ['true', '1', 'yes', 'woodpecker']) expect(isCI({ CI: value })).toBe(true);
  });

  it('shows it on a terminal that can rewrite a line, outside CI', () => {
    expect(showsProgress({}, true)).toBe(true);
    expect(showsProgress({ CI: 'false' }, true)).toBe(true);
    expect(showsProgress({ CI: '0' }, true)).toBe(true);
    expect(showsProgress({ CI: 'true' }, true)).toBe(false);
    expect(showsProgress({}, false)).toBe(false);
    expect(showsProgress({ TERM: 'dumb' }, true)).toBe(false);
    expect(showsProgress({ TERM: 'xterm-256color' }, true)).toBe(true);
  });
});

describe('colour', () => {
  it('follows the terminal, NO_COLOR and FORCE_COLOR', () => {
    expect(useColor({}, true)).toBe(true);
    expect(useColor({}, false)).toBe(false);
    expect(useColor({ NO_COLOR: '1' }, true)).toBe(false);
    expect(useColor({ NO_COLOR: '' }, true)).toBe(true);
    expect(useColor({ FORCE_COLOR: '1' }, false)).toBe(true);
    expect(useColor({ FORCE_COLOR: '0' }, true)).toBe(false);
    expect(useColor({ NO_COLOR: '1', FORCE_COLOR: '1' }, true)).toBe(false);
    expect(useColor({ TERM: 'dumb' }, true)).toBe(false);
  });
});
