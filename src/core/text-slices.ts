/**
 * A long text in slices of at most `size` characters, never splitting a surrogate pair. Slices share
 * the text's characters, so only one slice at a time becomes bytes: a 10 MB value written whole is
 * also 10 MB of bytes until the socket took them all.
 */
export function* slicesOf(text: string, size: number): Generator<string> {
  for (let at = 0; at < text.length;) {
    let end = Math.min(text.length, at + size);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && end - at > 1 && last >= 0xd800 && last <= 0xdbff) end--;
    yield text.slice(at, end);
    at = end;
  }
}
