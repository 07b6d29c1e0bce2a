import { describe, expect, it } from 'vitest';
import { slicesOf } from '../../src/core/text-slices';

describe('slices of a wide value', () => {
  it('cuts at the size, keeps surrogate pairs whole, and loses nothing', () => {
    expect([...slicesOf('abcdefg', 3)]).toEqual(['abc', 'def', 'g']);
    expect([...slicesOf('', 3)]).toEqual([]);
    // '😀' is two UTF-16 units; a cut between them would send two U+FFFD instead.
    const text = 'ab😀cd😀😀e';
    const slices = [...slicesOf(text, 3)];
    expect(slices.join('')).toBe(text);
    for (const slice of slices) expect(Buffer.from(slice).toString()).toBe(slice);
    expect(slices).toEqual(['ab', '😀c', 'd😀', '😀e']);
  });
});
