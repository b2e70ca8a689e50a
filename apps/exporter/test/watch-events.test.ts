/**
 * The watch line reader and event checks on their own: lines split across chunks (a multi-byte
 * character included), a line past the cap dropped as it streams, and each malformed event shape
 * mapped to a fixed reason that quotes nothing from the line.
 */
import { parseWatchEvent, WatchLines } from '../src/sources/kubernetes/watchEvents';

function feed(chunks: Buffer[], max = 64): { lines: string[]; oversized: number } {
  const lines: string[] = [];
  let oversized = 0;
  const reader = new WatchLines(
    max,
    (l) => lines.push(l),
    () => oversized++,
  );
  for (const c of chunks) reader.push(c);
  reader.end();
  return { lines, oversized };
}

describe('WatchLines', () => {
  test('lines split anywhere across chunks, multi-byte characters included, come out whole', () => {
    const text = Buffer.from('{"a":"é"}\n{"b":"日本"}\n\n{"c":1}', 'utf8');
    for (let cut = 1; cut < text.length; cut++) {
      const { lines } = feed([text.subarray(0, cut), text.subarray(cut)]);
      expect(lines).toEqual(['{"a":"é"}', '{"b":"日本"}', '{"c":1}']);
    }
    const bytewise = feed([...text].map((b) => Buffer.from([b])));
    expect(bytewise.lines).toEqual(['{"a":"é"}', '{"b":"日本"}', '{"c":1}']);
  });

  test('a line over the cap is reported once, dropped, and the next line is read', () => {
    const big = Buffer.alloc(1000, 0x61);
    const { lines, oversized } = feed([Buffer.from('{"ok":1}\n'), big, big, Buffer.from('tail\n{"ok":2}\n')], 64);
    expect(oversized).toBe(1);
    expect(lines).toEqual(['{"ok":1}', '{"ok":2}']);
  });

  test('memory stays at the cap: a 64 MiB line without a newline keeps nothing buffered', () => {
    let oversized = 0;
    const reader = new WatchLines(
      1024,
      () => undefined,
      () => oversized++,
    );
    const chunk = Buffer.alloc(1024 * 1024, 0x62);
    for (let i = 0; i < 64; i++) reader.push(chunk);
    expect(oversized).toBe(1);
    expect((reader as unknown as { pendingBytes: number }).pendingBytes).toBe(0);
  });
});

describe('parseWatchEvent', () => {
  test('well-formed events', () => {
    expect(parseWatchEvent('{"type":"ADDED","object":{"metadata":{"name":"p","namespace":"n","resourceVersion":"7"}}}', 'Pod')).toEqual({
      type: 'ADDED',
      object: { metadata: { name: 'p', namespace: 'n', resourceVersion: '7' } },
      resourceVersion: '7',
    });
    expect(parseWatchEvent('{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"9"}}}', 'Pod')).toEqual({
      type: 'BOOKMARK',
      resourceVersion: '9',
    });
    expect(parseWatchEvent('{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}}', 'Pod')).toEqual({
      type: 'ERROR',
      status: { code: 410, reason: 'Expired' },
    });
  });

  test.each([
    ['{"type":"ADDED","object":null}', 'ADDED event without an object'],
    ['{}', 'watch event without a type'],
    ['{"type":"ERROR"}', 'ERROR event without a Status object'],
    ['{"type":"BOOKMARK"}', 'BOOKMARK event without metadata.resourceVersion'],
    ['{"type":"ADDED","object":{"metadata":{"name":42}}}', 'ADDED event object without metadata.name'],
    ['{"type":"ADDED","object":{"kind":"Node","metadata":{"name":"x"}}}', 'ADDED event object of another kind than Pod'],
    [
      '{"type":"MODIFIED","object":{"metadata":{"name":"x","resourceVersion":5}}}',
      'MODIFIED event object with a non-string metadata.resourceVersion',
    ],
    ['{"type":"constructor","object":{"metadata":{"name":"x"}}}', 'watch event of an unknown type'],
    ['{"type":"ERROR","object":{"code":"410","reason":"<script>"}}', 'ERROR event without a code or reason'],
    ['[1]', 'watch event is not a JSON object'],
    ['secret-token-in-garbage', 'watch event is not JSON'],
  ])('%s → skipped: %s', (line, reason) => {
    const result = parseWatchEvent(line, 'Pod');
    expect(result).toEqual({ skip: reason });
  });
});
