// Tests of the replication wire codec: commands ↔ lines, the streaming line
// decoder, every error code, the examples of docs/protocol.md, and fast-check
// round-trip and fuzz properties.
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  DEFAULT_MAX_LINE_BYTES,
  LineDecoder,
  jsonNestingDepth,
  parseCommand,
  resolveLimits,
  sanitizeErrorMessage,
  serializeCommand,
  type CodecLimits,
  type ParseOptions,
} from '../../src/replication/codec.js';
import {
  COMMAND_NAMES,
  COMMAND_SENDERS,
  maySend,
  type Command,
  type CommandName,
  type JsonValue,
  type Side,
} from '../../src/replication/commands.js';
import {
  PROTOCOL_ERROR_CODES,
  ProtocolError,
  type ProtocolErrorCode,
} from '../../src/replication/protocol-error.js';

// ---------------------------------------------------------------------------
// Helpers

const CONTROL = /[\u0000-\u001f\u007f]/;
const enc = (s: string): Buffer => Buffer.from(s, 'utf8');

function catchProtocolError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  throw new Error('expected a ProtocolError, got none');
}

function codeOf(fn: () => unknown): ProtocolErrorCode {
  return catchProtocolError(fn).code;
}

/** A side that may send `name` (for parsing it with a sender check). */
function senderOf(name: CommandName): Side {
  return COMMAND_SENDERS[name] === 'client' ? 'client' : 'server';
}

/** Feeds chunks through a decoder and parses each line; returns what it got. */
function decodeChunks(
  chunks: readonly Uint8Array[],
  options?: ParseOptions,
  end = true,
): { commands: Command[]; error?: ProtocolError } {
  const decoder = new LineDecoder(options);
  const commands: Command[] = [];
  try {
    for (const chunk of chunks) {
      for (const line of decoder.push(chunk)) commands.push(parseCommand(line, options));
    }
    if (end) decoder.end();
  } catch (error) {
    if (error instanceof ProtocolError) return { commands, error };
    throw error;
  }
  return { commands };
}

function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(prev, p));
    prev = p;
  }
  chunks.push(bytes.subarray(prev));
  return chunks;
}

// ---------------------------------------------------------------------------
// Sample commands, one or more per type, with their canonical lines

const SAMPLES: readonly [Command, string][] = [
  [{ type: 'SERVER', serverName: 'example.com' }, 'SERVER example.com'],
  [{ type: 'AUTH', secret: 's3cr3t' }, 'AUTH s3cr3t'],
  [{ type: 'NAME', clientName: 'reader-1' }, 'NAME reader-1'],
  [{ type: 'REPLICATE' }, 'REPLICATE'],
  [
    { type: 'RDATA', stream: 'events', instance: 'main', token: 12, row: { a: [1, 'b c'] } },
    'RDATA events main 12 {"a":[1,"b c"]}',
  ],
  [
    { type: 'RDATA', stream: 'events', instance: 'main', token: 'batch', row: null },
    'RDATA events main batch null',
  ],
  [{ type: 'RDATA', stream: 's', instance: 'w', token: 0, row: 'x\ny' }, 'RDATA s w 0 "x\\ny"'],
  [
    { type: 'POSITION', stream: 'events', instance: 'main', prevToken: 5, newToken: 9 },
    'POSITION events main 5 9',
  ],
  [
    {
      type: 'POSITION',
      stream: 'events',
      instance: 'main',
      prevToken: Number.MAX_SAFE_INTEGER,
      newToken: Number.MAX_SAFE_INTEGER,
    },
    'POSITION events main 9007199254740991 9007199254740991',
  ],
  [
    {
      type: 'POSITION',
      stream: 'typing',
      instance: 'main',
      prevToken: 40,
      newToken: 40,
      epoch: '5f0c2a9e41d7b386',
    },
    'POSITION typing main 40 40 5f0c2a9e41d7b386',
  ],
  [{ type: 'PING', ms: 1732680000000 }, 'PING 1732680000000'],
  [
    { type: 'USER_SYNC', instance: 'reader-1', userId: '@a:b.c', state: 'start', ms: 7 },
    'USER_SYNC reader-1 @a:b.c start 7',
  ],
  [
    { type: 'USER_SYNC', instance: 'reader-1', userId: '@a:b.c', state: 'end', ms: 0 },
    'USER_SYNC reader-1 @a:b.c end 0',
  ],
  [{ type: 'FEDERATION_ACK', instance: 'fed-1', token: 512 }, 'FEDERATION_ACK fed-1 512'],
  [{ type: 'ERROR', message: 'line too long' }, 'ERROR line too long'],
  [{ type: 'ERROR', message: '' }, 'ERROR'],
  [{ type: 'ERROR', message: '  spaced  out  ' }, 'ERROR   spaced  out  '],
  [{ type: 'ERROR', message: 'naïve ☃ 𝄞' }, 'ERROR naïve ☃ 𝄞'],
];

describe('commands table', () => {
  it('covers every command of DESIGN.md with its sender', () => {
    expect(COMMAND_NAMES).toEqual([
      'SERVER',
      'AUTH',
      'NAME',
      'REPLICATE',
      'RDATA',
      'POSITION',
      'PING',
      'USER_SYNC',
      'FEDERATION_ACK',
      'ERROR',
    ]);
    expect(maySend('server', 'RDATA')).toBe(true);
    expect(maySend('client', 'RDATA')).toBe(false);
    expect(maySend('client', 'AUTH')).toBe(true);
    expect(maySend('server', 'AUTH')).toBe(false);
    expect(maySend('client', 'PING') && maySend('server', 'PING')).toBe(true);
    expect(maySend('client', 'ERROR') && maySend('server', 'ERROR')).toBe(true);
  });

  it('has a sample for every command', () => {
    expect(new Set(SAMPLES.map(([c]) => c.type))).toEqual(new Set(COMMAND_NAMES));
  });
});

describe('serializeCommand / parseCommand', () => {
  it.each(SAMPLES.map(([cmd, line]) => [cmd.type, cmd, line] as const))(
    '%s round-trips',
    (_name, cmd, line) => {
      expect(serializeCommand(cmd)).toBe(line);
      expect(parseCommand(line)).toStrictEqual(cmd);
      expect(parseCommand(line, { sender: senderOf(cmd.type) })).toStrictEqual(cmd);
    },
  );

  it('accepts what the grammar allows at its edges', () => {
    expect(parseCommand('ERROR ')).toStrictEqual({ type: 'ERROR', message: '' });
    expect(parseCommand('PING 0')).toStrictEqual({ type: 'PING', ms: 0 });
    expect(parseCommand('RDATA s i 1  {"a" : 1} ')).toMatchObject({ row: { a: 1 } });
    expect(parseCommand('RDATA s i 1 -0')).toMatchObject({ row: 0 });
    expect(Object.is((parseCommand('RDATA s i 1 -0') as { row: JsonValue }).row, 0)).toBe(true);
    expect(parseCommand('RDATA s i 1 "\\ud800"')).toMatchObject({ row: '\ud800' });
    expect(parseCommand('RDATA s i 1 {"__proto__":1}')).toMatchObject({ type: 'RDATA' });
    expect(parseCommand('NAME ~!@#$%^&*()_+{}|:"<>?`-=[]\\;\',./')).toMatchObject({
      clientName: '~!@#$%^&*()_+{}|:"<>?`-=[]\\;\',./',
    });
    expect(parseCommand('POSITION batch batch 3 3')).toMatchObject({ stream: 'batch' });
    // Depth exactly at the limit is fine.
    const deep = `${'['.repeat(32)}${']'.repeat(32)}`;
    expect(parseCommand(`RDATA s i 1 ${deep}`)).toMatchObject({ type: 'RDATA' });
    expect(parseCommand('RDATA s i 1 7', { maxJsonDepth: 0 }).type).toBe('RDATA');
  });

  it('does not look at a wrong-side command’s arguments', () => {
    expect(codeOf(() => parseCommand('RDATA', { sender: 'client' }))).toBe('wrong-side');
    expect(codeOf(() => parseCommand('AUTH', { sender: 'server' }))).toBe('wrong-side');
  });

  it('rejects every command from the side that may not send it, and no other', () => {
    for (const [cmd, line] of SAMPLES) {
      for (const side of ['server', 'client'] as const) {
        if (maySend(side, cmd.type)) {
          expect(parseCommand(line, { sender: side })).toStrictEqual(cmd);
        } else {
          expect(codeOf(() => parseCommand(line, { sender: side }))).toBe('wrong-side');
        }
      }
    }
  });
});

// ---------------------------------------------------------------------------
// The documentation's examples

function docExamples(): { side: Side; line: string }[] {
  const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
  const examples: { side: Side; line: string }[] = [];
  for (const block of doc.matchAll(/^```replication\n([\s\S]*?)^```$/gm)) {
    for (const raw of (block[1] ?? '').split('\n')) {
      if (raw === '') continue;
      const match = /^([SC]): (.*)$/.exec(raw);
      if (match === null) throw new Error(`bad example line in docs/protocol.md: ${raw}`);
      examples.push({ side: match[1] === 'S' ? 'server' : 'client', line: match[2] ?? '' });
    }
  }
  return examples;
}

describe('docs/protocol.md examples', () => {
  const examples = docExamples();

  it('exist for every command', () => {
    expect(examples.length).toBeGreaterThan(30);
    const types = new Set(examples.map((e) => parseCommand(e.line).type));
    expect(types).toEqual(new Set(COMMAND_NAMES));
  });

  it.each(examples.map((e) => [e.side, e.line] as const))('%s: %s', (side, line) => {
    const cmd = parseCommand(line, { sender: side });
    expect(serializeCommand(cmd)).toBe(line);
  });
});

// ---------------------------------------------------------------------------
// Error codes: each one from a minimal bad input

describe('error codes', () => {
  // One minimal bad input per code; the Record type makes the list exhaustive.
  const minimal: Record<ProtocolErrorCode, () => unknown> = {
    'line-too-long': () => parseCommand('A'.repeat(DEFAULT_MAX_LINE_BYTES + 1)),
    'bad-utf8': () => [...new LineDecoder().push(Buffer.from([0xff, 0x0a]))],
    'truncated-line': () => {
      const decoder = new LineDecoder();
      return [...decoder.push(enc('PING 1'))].concat(String(decoder.end()));
    },
    'empty-line': () => parseCommand(''),
    'control-character': () => parseCommand('REPLICATE\r'),
    'unknown-command': () => parseCommand('FROB'),
    'wrong-side': () => parseCommand('RDATA s main 1 {}', { sender: 'client' }),
    'bad-argument': () => parseCommand('PING'),
    'bad-json': () => parseCommand('RDATA s main 1 {'),
    'json-too-deep': () => parseCommand('RDATA s main 1 [[]]', { maxJsonDepth: 1 }),
    'json-too-large': () => parseCommand('RDATA s main 1 "x"', { maxJsonBytes: 2 }),
  };

  it.each(PROTOCOL_ERROR_CODES.map((code) => [code]))('%s from a minimal input', (code) => {
    expect(codeOf(minimal[code])).toBe(code);
  });

  const bad: [ProtocolErrorCode, string, ParseOptions?][] = [
    ['line-too-long', 'A'.repeat(DEFAULT_MAX_LINE_BYTES + 1)],
    ['line-too-long', `ERROR ${'é'.repeat(40)}`, { maxLineBytes: 50 }],
    ['bad-utf8', 'PING \ud800'],
    ['bad-utf8', 'ERROR \udc00x'],
    ['empty-line', ''],
    ['control-character', 'REPLICATE\r'],
    ['control-character', 'PING\t1'],
    ['control-character', 'ERROR a\nb'],
    ['control-character', 'ERROR \u007f'],
    ['control-character', 'ERROR \u0000'],
    ['unknown-command', 'FROB 1'],
    ['unknown-command', 'ping 1'],
    ['unknown-command', ' PING 1'],
    ['unknown-command', 'USER_IP @a:b []'],
    ['unknown-command', '\ufeffPING 1'],
    ['unknown-command', '__proto__ x'],
    ['unknown-command', 'toString'],
    ['wrong-side', 'RDATA s main 1 {}', { sender: 'client' }],
    ['wrong-side', 'REPLICATE', { sender: 'server' }],
    ['bad-argument', 'PING'],
    ['bad-argument', 'PING '],
    ['bad-argument', 'PING 01'],
    ['bad-argument', 'PING -1'],
    ['bad-argument', 'PING +1'],
    ['bad-argument', 'PING 1e3'],
    ['bad-argument', 'PING 1.0'],
    ['bad-argument', 'PING 9007199254740992'],
    ['bad-argument', 'PING 99999999999999999999'],
    ['bad-argument', 'PING 1 2'],
    ['bad-argument', 'PING 1 '],
    ['bad-argument', 'SERVER'],
    ['bad-argument', 'SERVER a b'],
    ['bad-argument', 'SERVER  a'],
    ['bad-argument', 'SERVER ä'],
    ['bad-argument', 'SERVER \u00a0'],
    ['bad-argument', 'NAME a b'],
    ['bad-argument', 'AUTH'],
    ['bad-argument', 'REPLICATE x'],
    ['bad-argument', 'REPLICATE '],
    ['bad-argument', 'RDATA'],
    ['bad-argument', 'RDATA s i 1'],
    ['bad-argument', 'RDATA s  i 1 {}'],
    ['bad-argument', 'RDATA s i 01 {}'],
    ['bad-argument', 'RDATA s i Batch {}'],
    ['bad-argument', 'RDATA s ï 1 {}'],
    ['bad-argument', 'POSITION s main 5 4'],
    ['bad-argument', 'POSITION s main 5'],
    ['bad-argument', 'POSITION s main 5 6 7 8'],
    ['bad-argument', 'POSITION s main 5 6 '],
    ['bad-argument', 'POSITION s main 5 6 ä'],
    ['bad-argument', 'POSITION s main 6 5 e1'],
    ['bad-argument', 'USER_SYNC w @a:b START 1'],
    ['bad-argument', 'USER_SYNC w @a:b start'],
    ['bad-argument', 'FEDERATION_ACK w'],
    ['bad-argument', 'FEDERATION_ACK w x'],
    ['bad-json', 'RDATA s main 1 {'],
    ['bad-json', 'RDATA s main 1 '],
    ['bad-json', 'RDATA s main 1 1e400'],
    ['bad-json', 'RDATA s main 1 [-1e999]'],
    ['bad-json', "RDATA s main 1 {'a':1}"],
    ['bad-json', 'RDATA s main 1 {"a":1}}'],
    ['bad-json', 'RDATA s main 1 ]]]]'],
    ['bad-json', 'RDATA s main 1 NaN'],
    ['json-too-deep', `RDATA s main 1 ${'['.repeat(33)}${']'.repeat(33)}`],
    ['json-too-deep', `RDATA s main 1 ${'{"a":'.repeat(33)}1${'}'.repeat(33)}`],
    ['json-too-deep', `RDATA s main 1 ${'['.repeat(60_000)}`],
    ['json-too-deep', 'RDATA s main 1 [[1]]', { maxJsonDepth: 1 }],
    ['json-too-large', 'RDATA s main 1 "0123456789"', { maxJsonBytes: 8 }],
  ];

  it.each(bad.map(([code, line, opts]) => [code, JSON.stringify(line).slice(0, 60), line, opts]))(
    '%s: %s',
    (code, _shown, line, opts) => {
      const error = catchProtocolError(() => parseCommand(line, opts));
      expect(error.code).toBe(code);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe('ProtocolError');
      expect(error.message).not.toMatch(CONTROL);
      expect(error.message.length).toBeLessThanOrEqual(400);
    },
  );

  it('never echoes an AUTH secret', () => {
    for (const line of ['AUTH hunter2ä', 'AUTH hunter2 extra', 'AUTH  hunter2']) {
      expect(catchProtocolError(() => parseCommand(line)).message).not.toContain('hunter2');
    }
    expect(
      catchProtocolError(() => serializeCommand({ type: 'AUTH', secret: 'hunter2 x' })).message,
    ).not.toContain('hunter2');
  });

  it('reports the first failure in the documented order', () => {
    const first = (line: string, opts?: ParseOptions): string =>
      `${catchProtocolError(() => parseCommand(line, opts)).code}`;
    expect(first(`PING \ud800\r${'x'.repeat(DEFAULT_MAX_LINE_BYTES)}`)).toBe('line-too-long');
    expect(first('FROB \ud800\r')).toBe('bad-utf8');
    expect(first('FROB\r')).toBe('control-character');
    expect(first('FROB x', { sender: 'client' })).toBe('unknown-command');
    expect(first('RDATA ä', { sender: 'client' })).toBe('wrong-side');
    expect(catchProtocolError(() => parseCommand('POSITION ä main 5 4')).message).toMatch(
      /<stream>/,
    );
    expect(catchProtocolError(() => parseCommand('POSITION s ä 5')).message).toMatch(/expected 4/);
    expect(
      first(`RDATA s main 1 "${'x'.repeat(20)}" ${'['.repeat(40)}`, { maxJsonBytes: 20 }),
    ).toBe('json-too-large');
    expect(first(`RDATA s main 1 ${'['.repeat(40)} not json`)).toBe('json-too-deep');
  });

  it('says CRLF is not accepted', () => {
    expect(catchProtocolError(() => parseCommand('REPLICATE\r')).message).toMatch(/CRLF/);
  });

  it('keeps error messages short and clean whatever the input', () => {
    const error = new ProtocolError('bad-json', `x\ny\r\u0000\ud800${'z'.repeat(1000)}`);
    expect(error.message).not.toMatch(CONTROL);
    expect(error.message.length).toBeLessThanOrEqual(400);
    expect(error.message.startsWith('x y  \ufffd')).toBe(true);
  });

  it('LineDecoder: bad-utf8, line-too-long, truncated-line', () => {
    const invalid = [
      [0xff],
      [0xc0, 0x80], // overlong NUL
      [0xe0, 0x80, 0x80], // overlong
      [0xed, 0xa0, 0x80], // encoded surrogate
      [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
      [0x80], // stray continuation
      [0xe2, 0x82], // cut sequence
    ];
    for (const bytes of invalid) {
      const line = Buffer.concat([enc('ERROR '), Buffer.from(bytes), enc('\n')]);
      expect(decodeChunks([line]).error?.code).toBe('bad-utf8');
    }
    expect(decodeChunks([enc(`${'A'.repeat(100)}\n`)], { maxLineBytes: 99 }).error?.code).toBe(
      'line-too-long',
    );
    expect(decodeChunks([enc('PING 1')]).error?.code).toBe('truncated-line');
  });
});

// ---------------------------------------------------------------------------
// Serialiser checks

describe('serializeCommand refuses what could not be parsed back', () => {
  const cases: [ProtocolErrorCode, unknown, CodecLimits?][] = [
    ['bad-argument', { type: 'SERVER', serverName: '' }],
    ['bad-argument', { type: 'SERVER', serverName: 'a b' }],
    ['bad-argument', { type: 'NAME', clientName: 'a\nb' }],
    ['bad-argument', { type: 'NAME', clientName: 7 }],
    ['bad-argument', { type: 'RDATA', stream: 's', instance: 'i', token: -1, row: 1 }],
    ['bad-argument', { type: 'RDATA', stream: 's', instance: 'i', token: 1.5, row: 1 }],
    ['bad-argument', { type: 'RDATA', stream: 's', instance: 'i', token: 2 ** 53, row: 1 }],
    ['bad-argument', { type: 'RDATA', stream: 's', instance: 'i', token: '1', row: 1 }],
    ['bad-argument', { type: 'POSITION', stream: 's', instance: 'i', prevToken: 2, newToken: 1 }],
    ['bad-argument', { type: 'PING', ms: Number.NaN }],
    ['bad-argument', { type: 'USER_SYNC', instance: 'i', userId: 'u', state: 'on', ms: 1 }],
    ['bad-argument', { type: 'ERROR', message: 3 }],
    ['bad-json', { type: 'RDATA', stream: 's', instance: 'i', token: 1, row: Number.NaN }],
    ['bad-json', { type: 'RDATA', stream: 's', instance: 'i', token: 1, row: [undefined] }],
    ['bad-json', { type: 'RDATA', stream: 's', instance: 'i', token: 1, row: { a: undefined } }],
    ['bad-json', { type: 'RDATA', stream: 's', instance: 'i', token: 1, row: 10n }],
    ['bad-json', { type: 'RDATA', stream: 's', instance: 'i', token: 1, row: () => 1 }],
    ['bad-json', { type: 'RDATA', stream: 's', instance: 'i', token: 1, row: undefined }],
    [
      'json-too-deep',
      { type: 'RDATA', stream: 's', instance: 'i', token: 1, row: [[[[]]]] },
      { maxJsonDepth: 3 },
    ],
    [
      'json-too-large',
      { type: 'RDATA', stream: 's', instance: 'i', token: 1, row: 'x'.repeat(100) },
      { maxJsonBytes: 50 },
    ],
    [
      'line-too-long',
      { type: 'RDATA', stream: 's', instance: 'i', token: 1, row: 'x'.repeat(90) },
      { maxLineBytes: 100 },
    ],
    ['unknown-command', { type: 'FROB' }],
  ];

  it.each(cases.map(([code, cmd, limits], i) => [i, code, cmd, limits]))(
    '#%i %s',
    (_i, code, cmd, limits) => {
      expect(codeOf(() => serializeCommand(cmd as Command, limits))).toBe(code);
    },
  );

  it('refuses cyclic and absurdly deep rows without a stack overflow', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const rdata = (row: unknown): Command =>
      ({ type: 'RDATA', stream: 's', instance: 'i', token: 1, row }) as Command;
    expect(codeOf(() => serializeCommand(rdata(cyclic)))).toBe('bad-json');
    let deep: unknown = 1;
    for (let i = 0; i < 1_000_000; i++) deep = [deep];
    expect(codeOf(() => serializeCommand(rdata(deep)))).toBe('json-too-deep');
  });

  it('sanitises and cuts ERROR messages instead of refusing them', () => {
    expect(serializeCommand({ type: 'ERROR', message: 'a\r\nb\tc\u0000\u007f\ud800' })).toBe(
      'ERROR a  b c  \ufffd',
    );
    expect(sanitizeErrorMessage('ok \u{1F600}')).toBe('ok \u{1F600}');
    // 'é' is two bytes: a 16-byte line has room for 5 of them after "ERROR ".
    const line = serializeCommand(
      { type: 'ERROR', message: 'é'.repeat(100) },
      { maxLineBytes: 16 },
    );
    expect(line).toBe(`ERROR ${'é'.repeat(5)}`);
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(16);
    const emoji = serializeCommand(
      { type: 'ERROR', message: '😀'.repeat(10) },
      { maxLineBytes: 17 },
    );
    expect(emoji).toBe(`ERROR ${'😀'.repeat(2)}`);
  });

  it('writes -0 as 0', () => {
    expect(
      serializeCommand({ type: 'RDATA', stream: 's', instance: 'i', token: -0, row: [-0] }),
    ).toBe('RDATA s i 0 [0]');
  });

  it('rejects bad limits as configuration errors', () => {
    expect(() => resolveLimits({ maxLineBytes: 15 })).toThrow(RangeError);
    expect(() => resolveLimits({ maxJsonDepth: -1 })).toThrow(RangeError);
    expect(() => resolveLimits({ maxJsonBytes: 0.5 })).toThrow(RangeError);
    expect(resolveLimits({ maxLineBytes: 100 })).toEqual({
      maxLineBytes: 100,
      maxJsonDepth: 32,
      maxJsonBytes: 100,
    });
  });
});

describe('jsonNestingDepth', () => {
  it.each([
    ['1', 0],
    ['"[[[["', 0],
    ['"\\"[["', 0],
    ['["\\\\",[1]]', 2],
    ['[{"a":[{}]}]', 4],
    ['{"[":"]","{":{}}', 2],
    [']]][[', 2],
  ] as const)('%s → %i', (text, depth) => {
    expect(jsonNestingDepth(text)).toBe(depth);
  });

  it('stops early', () => {
    expect(jsonNestingDepth('['.repeat(1000), 5)).toBe(6);
  });
});

// ---------------------------------------------------------------------------
// LineDecoder

describe('LineDecoder', () => {
  it('splits lines across chunks, also inside a multi-byte character', () => {
    const text = 'ERROR a☃b𝄞\nPING 5\n\n\nREPLICATE\n';
    const bytes = enc(text);
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        const { commands, error } = decodeChunks(splitAt(bytes, [i, j]));
        expect(error).toBeUndefined();
        expect(commands).toStrictEqual([
          { type: 'ERROR', message: 'a☃b𝄞' },
          { type: 'PING', ms: 5 },
          { type: 'REPLICATE' },
        ]);
      }
    }
  });

  it('leaves a CR in the line, so CRLF lines are rejected', () => {
    expect(decodeChunks([enc('REPLICATE\r\n')]).error?.code).toBe('control-character');
  });

  it('accepts a line of exactly maxLineBytes and rejects one byte more', () => {
    const ok = `ERROR ${'x'.repeat(94)}\n`;
    expect(decodeChunks([enc(ok)], { maxLineBytes: 100 }).error).toBeUndefined();
    const decoder = new LineDecoder({ maxLineBytes: 100 });
    expect([...decoder.push(enc(`ERROR ${'x'.repeat(94)}`))]).toEqual([]);
    expect(decoder.bufferedBytes).toBe(100);
    expect(codeOf(() => [...decoder.push(enc('y'))])).toBe('line-too-long');
  });

  it('yields every line before a bad one, then stays dead', () => {
    const decoder = new LineDecoder();
    const lines: string[] = [];
    const error = catchProtocolError(() => {
      const input = Buffer.concat([
        enc('PING 1\nPING 2\n'),
        Buffer.from([0xff]),
        enc('\nPING 3\n'),
      ]);
      for (const line of decoder.push(input)) lines.push(line);
    });
    expect(lines).toEqual(['PING 1', 'PING 2']);
    expect(error.code).toBe('bad-utf8');
    expect(codeOf(() => decoder.push(enc('PING 4\n')))).toBe('bad-utf8');
    expect(codeOf(() => decoder.end())).toBe('bad-utf8');
  });

  it('resumes where an abandoned iterator stopped', () => {
    const decoder = new LineDecoder();
    for (const line of decoder.push(enc('PING 1\nPING 2\nPI'))) {
      expect(line).toBe('PING 1');
      break;
    }
    expect(decoder.unscannedBytes).toBe(9);
    // A push whose iterator is never run is not lost either.
    decoder.push(enc('NG 3\nPIN'));
    expect([...decoder.push(enc('G 4\n'))]).toEqual(['PING 2', 'PING 3', 'PING 4']);
    expect(decoder.unscannedBytes).toBe(0);
    expect(decoder.bufferedBytes).toBe(0);
    decoder.end();
  });

  it('copies partial lines, so the caller may reuse its buffer', () => {
    const decoder = new LineDecoder();
    const buf = Buffer.from('PING 12');
    expect([...decoder.push(buf)]).toEqual([]);
    buf.fill(0x41);
    expect([...decoder.push(enc('3\n'))]).toEqual(['PING 123']);
  });

  it('accepts Uint8Array views at an offset', () => {
    const backing = enc('xxPING 7\nyy');
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 2, 7);
    expect([...new LineDecoder().push(view)]).toEqual(['PING 7']);
  });

  it('rejects 10 MB without a newline before buffering more than the limit plus one chunk', () => {
    for (const chunkSize of [64 * 1024, 64 * 1024 + 1, 1000]) {
      const chunk = Buffer.alloc(chunkSize, 0x41);
      const decoder = new LineDecoder();
      let fed = 0;
      let maxBuffered = 0;
      let error: ProtocolError | undefined;
      while (fed < 10 * 1024 * 1024) {
        fed += chunk.length;
        try {
          for (const line of decoder.push(chunk)) throw new Error(`unexpected line ${line}`);
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
          error = e;
          break;
        }
        maxBuffered = Math.max(maxBuffered, decoder.bufferedBytes);
      }
      expect(error?.code).toBe('line-too-long');
      expect(fed).toBeLessThanOrEqual(DEFAULT_MAX_LINE_BYTES + chunkSize);
      expect(maxBuffered).toBeLessThanOrEqual(DEFAULT_MAX_LINE_BYTES);
      expect(decoder.bufferedBytes).toBe(0);
      expect(codeOf(() => decoder.push(chunk))).toBe('line-too-long');
    }
  });
});

// ---------------------------------------------------------------------------
// Property tests

const wordArb = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: 24,
});
const uintArb = fc.oneof(fc.nat(1000), fc.maxSafeNat(), fc.constant(Number.MAX_SAFE_INTEGER));
// Through JSON once: -0 becomes 0, which is what the wire carries.
const jsonArb = fc
  .jsonValue({ maxDepth: 6 })
  .map((v) => JSON.parse(JSON.stringify(v)) as JsonValue);
const cleanTextArb = fc
  .string({ unit: 'binary', maxLength: 60 })
  .map((s) => s.replace(/[\u0000-\u001f\u007f]/g, ''));

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  wordArb.map((serverName): Command => ({ type: 'SERVER', serverName })),
  wordArb.map((secret): Command => ({ type: 'AUTH', secret })),
  wordArb.map((clientName): Command => ({ type: 'NAME', clientName })),
  fc.constant<Command>({ type: 'REPLICATE' }),
  fc
    .record({
      stream: wordArb,
      instance: wordArb,
      token: fc.oneof(uintArb, fc.constant('batch' as const)),
      row: jsonArb,
    })
    .map((r): Command => ({ type: 'RDATA', ...r })),
  fc
    .record({
      stream: wordArb,
      instance: wordArb,
      a: uintArb,
      b: uintArb,
      epoch: fc.option(wordArb, { nil: undefined }),
    })
    .map(({ stream, instance, a, b, epoch }): Command => ({
      type: 'POSITION',
      stream,
      instance,
      prevToken: Math.min(a, b),
      newToken: Math.max(a, b),
      ...(epoch === undefined ? {} : { epoch }),
    })),
  uintArb.map((ms): Command => ({ type: 'PING', ms })),
  fc
    .record({
      instance: wordArb,
      userId: wordArb,
      state: fc.constantFrom('start' as const, 'end' as const),
      ms: uintArb,
    })
    .map((r): Command => ({ type: 'USER_SYNC', ...r })),
  fc
    .record({ instance: wordArb, token: uintArb })
    .map((r): Command => ({ type: 'FEDERATION_ACK', ...r })),
  cleanTextArb.map((message): Command => ({ type: 'ERROR', message })),
);

/** Parses and checks the result; rethrows anything that is not a ProtocolError. */
function mustOnlyThrowProtocolErrors(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    if (!PROTOCOL_ERROR_CODES.includes(error.code)) throw new Error(`bad code ${error.code}`);
    if (CONTROL.test(error.message)) throw new Error('control character in error message');
  }
}

/** What the decoder accepted must serialise and parse back to itself. */
function checkAccepted(cmd: Command, options?: CodecLimits): void {
  let line: string;
  try {
    line = serializeCommand(cmd, options);
  } catch (error) {
    // Re-serialising can lengthen JSON numbers (1e9 → 1000000000).
    if (
      error instanceof ProtocolError &&
      (error.code === 'line-too-long' || error.code === 'json-too-large')
    ) {
      return;
    }
    throw error;
  }
  const again = parseCommand(line, options);
  if (!isDeepStrictEqual(again, cmd)) {
    throw new Error(`not stable: ${JSON.stringify(cmd)} → ${line} → ${JSON.stringify(again)}`);
  }
}

function feedAll(chunks: readonly Uint8Array[], options?: ParseOptions): void {
  const decoder = new LineDecoder(options);
  mustOnlyThrowProtocolErrors(() => {
    for (const chunk of chunks) {
      for (const line of decoder.push(chunk)) {
        let cmd: Command;
        try {
          cmd = parseCommand(line, options);
        } catch (error) {
          mustOnlyThrowProtocolErrors(() => {
            throw error;
          });
          continue; // keep going: more lines, more paths
        }
        checkAccepted(cmd, options);
      }
    }
    decoder.end();
  });
}

const SMALL_LIMITS: ParseOptions = { maxLineBytes: 120, maxJsonDepth: 4, maxJsonBytes: 80 };

const INTERESTING = [
  ' ',
  '  ',
  '\n',
  '\r',
  '\r\n',
  '\t',
  '\u0000',
  '"',
  '\\',
  '[',
  ']',
  '{',
  '}',
  ',',
  ':',
  '0',
  '01',
  '-1',
  '1e400',
  '9007199254740992',
  'batch',
  'start',
  'end',
  'é',
  '☃',
  '𝄞',
].map((s) => enc(s));
const BAD_BYTES = [[0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0x80], [0xf4, 0x90]].map(
  (b) => Buffer.from(b),
);

type Mutation =
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'duplicate'; at: number; length: number }
  | { kind: 'delete'; at: number; length: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    mask: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.oneof(
      fc.constantFrom(...INTERESTING, ...BAD_BYTES),
      fc.uint8Array({ minLength: 1, maxLength: 4 }),
    ),
  }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 40 }),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 8 }),
  }),
);

function mutate(input: Buffer, mutations: readonly Mutation[]): Buffer {
  let buf = input;
  for (const m of mutations) {
    const at = buf.length === 0 ? 0 : m.at % (buf.length + 1);
    switch (m.kind) {
      case 'flip':
        if (buf.length > 0) {
          buf = Buffer.from(buf);
          const i = at % buf.length;
          buf[i] = (buf[i] ?? 0) ^ m.mask;
        }
        break;
      case 'truncate':
        buf = buf.subarray(0, at);
        break;
      case 'insert':
        buf = Buffer.concat([buf.subarray(0, at), m.bytes, buf.subarray(at)]);
        break;
      case 'duplicate':
        buf = Buffer.concat([buf.subarray(0, at + m.length), buf.subarray(at)]);
        break;
      case 'delete':
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + m.length)]);
        break;
    }
  }
  return buf;
}

// STORESPLIT_FUZZ_SCALE=10 runs ten times as many fuzz cases (for a long soak).
const FUZZ_SCALE = Math.max(1, Number(process.env['STORESPLIT_FUZZ_SCALE'] ?? 1) || 1);
const FUZZ_TIMEOUT = 120_000 * FUZZ_SCALE;

// Valid lines to mutate: mostly from a pool drawn once (with a fixed seed, so a
// failure reproduces), so that the fuzz budget goes to mutations rather than
// to generating JSON; now and then a fresh one.
const VALID_LINE_POOL = fc
  .sample(commandArb, { numRuns: 5_000, seed: 20_241_127 })
  .map((cmd) => serializeCommand(cmd));
const validLineArb = fc.oneof(
  { weight: 9, arbitrary: fc.constantFrom(...VALID_LINE_POOL) },
  { weight: 1, arbitrary: commandArb.map((cmd) => serializeCommand(cmd)) },
);

describe('properties', () => {
  it(
    'serialise → parse gives the command back; lines never hold a newline',
    () => {
      fc.assert(
        fc.property(commandArb, (cmd) => {
          const line = serializeCommand(cmd);
          expect(line).not.toMatch(CONTROL);
          expect(parseCommand(line, { sender: senderOf(cmd.type) })).toStrictEqual(cmd);
          expect([...new LineDecoder().push(enc(`${line}\n`))]).toEqual([line]);
        }),
        { numRuns: 5_000 },
      );
    },
    FUZZ_TIMEOUT,
  );

  it(
    'ERROR messages of any text come back sanitised',
    () => {
      fc.assert(
        fc.property(fc.string({ unit: fc.nat(0xffff).map((c) => String.fromCharCode(c)) }), (m) => {
          const line = serializeCommand({ type: 'ERROR', message: m });
          expect(line).not.toMatch(CONTROL);
          expect(parseCommand(line)).toStrictEqual({
            type: 'ERROR',
            message: sanitizeErrorMessage(m),
          });
        }),
        { numRuns: 3_000 },
      );
    },
    FUZZ_TIMEOUT,
  );

  it(
    'a stream of lines split anywhere decodes to the same commands',
    () => {
      fc.assert(
        fc.property(
          fc.array(commandArb, { minLength: 1, maxLength: 8 }),
          fc.array(fc.nat(), { maxLength: 12 }),
          (cmds, cuts) => {
            const bytes = enc(cmds.map((c) => `${serializeCommand(c)}\n`).join(''));
            const { commands, error } = decodeChunks(splitAt(bytes, cuts));
            expect(error).toBeUndefined();
            expect(commands).toStrictEqual(cmds);
          },
        ),
        { numRuns: 2_000 },
      );
    },
    FUZZ_TIMEOUT,
  );

  // --- Fuzz: at least 100,000 cases in total below. -----------------------
  const FUZZ_PARTS = 5;

  // In parts, so the test worker's event loop answers its runner between them.
  for (let part = 1; part <= FUZZ_PARTS; part++)
    it(
      `fuzz: random bytes, randomly chunked, only ever raise ProtocolError (part ${part} of ${FUZZ_PARTS})`,
      () => {
        fc.assert(
          fc.property(
            fc.uint8Array({ maxLength: 160 }),
            fc.array(fc.nat(), { maxLength: 4 }),
            fc.boolean(),
            (bytes, cuts, small) => {
              feedAll(splitAt(bytes, cuts), small ? SMALL_LIMITS : undefined);
            },
          ),
          { numRuns: (25_000 * FUZZ_SCALE) / FUZZ_PARTS },
        );
      },
      FUZZ_TIMEOUT,
    );

  // In parts, so the test worker's event loop answers its runner between them.
  for (let part = 1; part <= FUZZ_PARTS; part++)
    it(
      `fuzz: mutated valid lines only ever raise ProtocolError (part ${part} of ${FUZZ_PARTS})`,
      () => {
        fc.assert(
          fc.property(
            fc.array(validLineArb, { minLength: 1, maxLength: 3 }),
            fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
            fc.array(fc.nat(), { maxLength: 3 }),
            fc.boolean(),
            (lines, mutations, cuts, small) => {
              const valid = enc(lines.map((line) => `${line}\n`).join(''));
              feedAll(splitAt(mutate(valid, mutations), cuts), small ? SMALL_LIMITS : undefined);
            },
          ),
          { numRuns: (50_000 * FUZZ_SCALE) / FUZZ_PARTS },
        );
      },
      FUZZ_TIMEOUT,
    );

  // In parts, so the test worker's event loop answers its runner between them.
  for (let part = 1; part <= FUZZ_PARTS; part++)
    it(
      `fuzz: grammar-shaped strings only ever raise ProtocolError (part ${part} of ${FUZZ_PARTS})`,
      () => {
        const piece = fc.oneof(
          fc.constantFrom(...COMMAND_NAMES, 'batch', 'start', 'end', 'AUTH', 'ping'),
          fc.constantFrom(' ', ' ', ' ', '  ', '\r', '\t', '\n', '\ud800', '\udc00', '\u00a0'),
          fc.constantFrom('0', '1', '01', '-1', '9007199254740991', '9007199254740992', '1e3'),
          fc.constantFrom('{', '}', '[', ']', '"', '\\', ':', ',', '"a"', 'null', '1e400', '-0'),
          wordArb,
          fc.string({ maxLength: 6 }),
        );
        fc.assert(
          fc.property(fc.array(piece, { maxLength: 16 }), fc.boolean(), (pieces, small) => {
            const line = pieces.join('');
            const options = small ? SMALL_LIMITS : undefined;
            mustOnlyThrowProtocolErrors(() => checkAccepted(parseCommand(line, options), options));
            mustOnlyThrowProtocolErrors(() => {
              parseCommand(line, { ...options, sender: 'client' });
            });
          }),
          { numRuns: (30_000 * FUZZ_SCALE) / FUZZ_PARTS },
        );
      },
      FUZZ_TIMEOUT,
    );
});
