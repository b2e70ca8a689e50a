/** The Node-side readers the CLI, exporter and Slack bot share, on real files in a temporary folder. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoopscopeError } from '../../src/error/loopscopeError';
import { readNodeDumps, readSnapshots, snapshotFiles } from '../../src/node';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'loopscope-node-io-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LoopscopeError);
    return `${(err as LoopscopeError).code}: ${(err as Error).message}`;
  }
  throw new Error('expected an error');
}

describe('readSnapshots', () => {
  it('reads files, every *.json of a directory in name order, and stdin', async () => {
    writeFileSync(join(dir, 'b.json'), '{"b":1}');
    writeFileSync(join(dir, 'a.json'), '{"a":1}');
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    const texts = await readSnapshots([dir, join(dir, 'b.json'), '-'], async () => '{"stdin":1}');
    expect(texts.map((t) => [t.name.replace(dir, 'DIR'), t.text])).toEqual([
      ['DIR/a.json', '{"a":1}'],
      ['DIR/b.json', '{"b":1}'],
      ['DIR/b.json', '{"b":1}'],
      ['-', '{"stdin":1}'],
    ]);
  });
  it('names a missing path and an empty directory', async () => {
    await expect(readSnapshots([join(dir, 'nope.json')])).rejects.toThrow(`snapshot ${join(dir, 'nope.json')}: no such file or directory`);
    expect(code(() => snapshotFiles(dir))).toBe(`INPUT_UNREADABLE: snapshot ${dir}: the directory holds no *.json files`);
  });
});

describe('readNodeDumps', () => {
  it('reads each node folder, adds the given addresses and warns about a folder without dumps', () => {
    mkdirSync(join(dir, 'node-a'));
    writeFileSync(join(dir, 'node-a', 'addr.txt'), '2: eth0    inet 10.0.0.5/24 brd 10.0.0.255 scope global eth0\n');
    mkdirSync(join(dir, 'node-b'));
    writeFileSync(join(dir, 'stray.txt'), '');
    const warnings: string[] = [];
    const dumps = readNodeDumps(dir, {
      nodeAddresses: (n) => (n === 'node-a' ? ['10.0.9.9', 'not-an-ip'] : []),
      warn: (m) => warnings.push(m),
    });
    expect([...dumps.keys()]).toEqual(['node-a']);
    const a = dumps.get('node-a')!;
    expect(a.nodeAddresses()).toEqual(['10.0.0.5']);
    expect(a.problems.map((p) => p.message)).toContain('"not-an-ip" is not an IP address; ignored');
    expect(warnings).toEqual([expect.stringContaining(`${join(dir, 'node-b')} has none of iptables-save.txt`)]);
  });
  it('an empty or missing folder is an error naming it, not "no evidence"', () => {
    expect(code(() => readNodeDumps(dir))).toContain(`INPUT_UNREADABLE: --node-dumps ${dir}: no node folders with dumps in it`);
    expect(code(() => readNodeDumps(join(dir, 'missing')))).toContain(`--node-dumps ${join(dir, 'missing')}: not a readable directory`);
  });
});
