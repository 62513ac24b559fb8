import { describe, expect, it } from 'vitest';
import { decodeSql } from '../src/migrations/folder.js';

/** A migration is UTF-8: where the first byte that is not stands, in line:column as an editor counts them. */

const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))));

describe('decodeSql', () => {
  it.each<[string, Buffer, string, { line: number; column: number } | undefined]>([
    ['plain UTF-8', bytes("select 'héllo 🐘';"), "select 'héllo 🐘';", undefined],
    ['a leading BOM is dropped', bytes([0xef, 0xbb, 0xbf], 'select 1;'), 'select 1;', undefined],
    ['a BOM elsewhere is kept', bytes('select 1;', [0xef, 0xbb, 0xbf]), 'select 1;\uFEFF', undefined],
    ['a Latin-1 é on line 2', bytes("select 1;\nselect 'caf", [0xe9], "';"), "select 1;\nselect 'caf\uFFFD';", { line: 2, column: 12 }],
    ['after multi-byte characters, counted as characters', bytes("-- 🐘 é\nselect '", [0xff], "';"), "-- 🐘 é\nselect '\uFFFD';", { line: 2, column: 9 }],
    ['after a BOM, which does not count', bytes([0xef, 0xbb, 0xbf], 'x', [0xc3]), 'x\uFFFD', { line: 1, column: 2 }],
    ['a truncated sequence at the very end', bytes('select 1;', [0xe2, 0x82]), 'select 1;\uFFFD', { line: 1, column: 10 }],
    ['an overlong encoding', bytes('a', [0xc0, 0xaf]), 'a\uFFFD\uFFFD', { line: 1, column: 2 }],
    ['an encoded surrogate', bytes('ab', [0xed, 0xa0, 0x80]), 'ab\uFFFD\uFFFD\uFFFD', { line: 1, column: 3 }],
    ['U+FFFD written as UTF-8 is valid', bytes('\uFFFD'), '\uFFFD', undefined],
  ])('%s', (_, input, sql, at) => {
    const decoded = decodeSql(input);
    expect(decoded.sql).toBe(sql);
    if (at === undefined) expect(decoded.encodingError).toBeUndefined();
    else expect(decoded.encodingError).toMatchObject(at);
  });
});
