/**
 * Fuzzing: mutated, truncated and shuffled valid dumps must never make a
 * parser or a trace throw. Seeded, so a failure names a case that replays.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  loadNodeDumps,
  parseConntrack,
  parseIpAddr,
  parseIpset,
  parseIptablesSave,
  type DumpProblem,
  traceLbPacket,
} from '../../src/netfilter';
import { parseNft } from '../../src/netfilter/nftables';
import { FIXTURES, fixture } from './fixtures';

/** mulberry32: small, fast, good enough to drive mutations reproducibly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function allFixtures(dir = FIXTURES): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return allFixtures(p);
    // nftables listings are fuzzed by their own parser's case below.
    return name.endsWith('.txt') && !name.endsWith('.nft-list.txt') ? [relative(FIXTURES, p)] : [];
  });
}

const NASTY = [
  '{',
  '}',
  ';',
  '@',
  ' . ',
  'vmap',
  'numgen random mod 0',
  'goto',
  'jump',
  'elements = {',
  '"',
  "'",
  '\\',
  '!',
  '-',
  '--',
  '-j',
  '-m',
  '-A',
  '[',
  ']',
  ':',
  '/',
  ',',
  '*',
  '#',
  'COMMIT',
  '\t',
  '\0',
  'ÿ',
  '😀',
  '0x',
  '-1',
  '999999999999',
  '::',
  '[0:0]',
  'Name:',
  'Members:',
  'add',
  'create',
  'src=',
  'dst=',
  '\r',
];

function mutate(text: string, rnd: () => number, others: string[]): string {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  let lines = text.split('\n');
  const ops = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < ops; k++) {
    const op = Math.floor(rnd() * 9);
    const i = Math.floor(rnd() * Math.max(1, lines.length));
    switch (op) {
      case 0: // truncate the whole text
        lines = lines
          .join('\n')
          .slice(0, Math.floor(rnd() * text.length))
          .split('\n');
        break;
      case 1: // delete lines
        lines.splice(i, 1 + Math.floor(rnd() * 5));
        break;
      case 2: // shuffle
        for (let j = lines.length - 1; j > 0; j--) {
          const r = Math.floor(rnd() * (j + 1));
          [lines[j], lines[r]] = [lines[r] as string, lines[j] as string];
        }
        break;
      case 3: // duplicate a line somewhere else
        lines.splice(Math.floor(rnd() * lines.length), 0, lines[i] ?? '');
        break;
      case 4: {
        // insert a nasty token into a line
        const line = lines[i] ?? '';
        const at = Math.floor(rnd() * (line.length + 1));
        lines[i] = line.slice(0, at) + pick(NASTY) + line.slice(at);
        break;
      }
      case 5: {
        // cut a line short
        const line = lines[i] ?? '';
        lines[i] = line.slice(0, Math.floor(rnd() * line.length));
        break;
      }
      case 6: {
        // swap two words of a line
        const words = (lines[i] ?? '').split(' ');
        const a = Math.floor(rnd() * words.length);
        const b = Math.floor(rnd() * words.length);
        [words[a], words[b]] = [words[b] as string, words[a] as string];
        lines[i] = words.join(' ');
        break;
      }
      case 7: // splice in lines of another dump (mixed files)
        lines.splice(
          i,
          0,
          ...pick(others)
            .split('\n')
            .slice(0, 1 + Math.floor(rnd() * 20)),
        );
        break;
      default: {
        // random bytes
        let s = '';
        const n = Math.floor(rnd() * 40);
        for (let j = 0; j < n; j++) s += String.fromCharCode(Math.floor(rnd() * 0x2ff));
        lines.splice(i, 0, s);
      }
    }
  }
  return lines.join(rnd() < 0.1 ? '\r\n' : '\n');
}

/** Plain checks (jest's expect per problem would dominate the run time). */
function checkProblems(problems: DumpProblem[], file: string, text: string): void {
  const lineCount = text.split(/\r?\n/).length;
  for (const p of problems) {
    if (p.file !== file && p.file !== 'nodeAddresses') throw new Error(`problem names file ${p.file}, not ${file}`);
    if (!(p.line >= 0 && p.line <= lineCount)) throw new Error(`problem line ${p.line} outside 0..${lineCount}`);
    if (typeof p.message !== 'string' || p.message === '') throw new Error('problem without message');
  }
}

describe('parsers and trace under fuzzing', () => {
  const files = allFixtures();
  const texts = files.map((f) => fixture(f).text);
  const CASES = 3000;

  it(`${CASES} mutated dumps: no uncaught error, problems name file and line`, () => {
    // CPU time, not wall time: on a loaded machine the wall clock measures the neighbours.
    const started = process.cpuUsage();
    const rnd = prng(0x10095c09e);
    for (let c = 0; c < CASES; c++) {
      const idx = Math.floor(rnd() * files.length);
      const name = `case-${c}-${files[idx]}`;
      const text = mutate(texts[idx] as string, rnd, texts);
      try {
        const a = parseIptablesSave(text, name);
        checkProblems(a.problems, name, text);
        const b = parseIpset(text, name);
        checkProblems(b.problems, name, text);
        const d = parseIpAddr(text, name);
        checkProblems(d.problems, name, text);
        const e = parseConntrack(text, name);
        checkProblems(e.problems, name, text);
        // A whole node from mutated dumps, traced both ways.
        const node = loadNodeDumps({
          iptablesSave: { text, file: name },
          ipset: { text: mutate(fixture('ipvs-local/ipset.txt').text, rnd, texts), file: 'ipset.txt' },
          addr: { text: mutate(fixture('ipvs-local/addr.txt').text, rnd, texts), file: 'addr.txt' },
        });
        const r = traceLbPacket(node, { src: '172.16.1.5', dst: '10.0.0.5', dport: 80, filter: c % 2 === 0 });
        const total = r.outcomes.reduce((s, o) => s + o.probability, 0);
        if (r.outcomes.length === 0 || Math.abs(total - 1) > 1e-9) throw new Error(`outcome probabilities sum to ${total}`);
        traceLbPacket(node, { src: 'fd00:10:244:1::5', dst: 'fd00:10::5', dport: 80, hook: 'OUTPUT' });
      } catch (err) {
        throw new Error(`fuzz case ${c} (${files[idx]}) failed: ${(err as Error).stack}\n--- input ---\n${text.slice(0, 2000)}`);
      }
    }
    // "a few thousand cases in a few seconds"
    const used = process.cpuUsage(started);
    expect((used.user + used.system) / 1000).toBeLessThan(30000);
  });

  it('1500 mutated nftables rulesets (text, and JSON mutated as data): no uncaught error, every trace sums to 1', () => {
    const rnd = prng(0x5eed_0f7);
    const text = fixture('upstream-kube-proxy/TestOverallNFTablesRules.nft-list.txt').text;
    const json = JSON.parse(fixture('upstream-kube-proxy/TestOverallNFTablesRules.nft.json').text) as { nftables: unknown[] };
    const junk: unknown[] = [
      null,
      0,
      -1,
      1e300,
      '',
      '@',
      '@nosuch',
      [],
      {},
      { concat: [] },
      { prefix: {} },
      { range: [1] },
      { set: 'x' },
      { vmap: null },
      'tcp',
      true,
    ];
    // Replaces a random value deep in a JSON tree.
    const poke = (x: unknown, depth: number): unknown => {
      if (depth > 6 || rnd() < 0.15) return junk[Math.floor(rnd() * junk.length)];
      if (Array.isArray(x)) {
        const copy = x.slice();
        if (copy.length > 0) {
          const i = Math.floor(rnd() * copy.length);
          if (rnd() < 0.2) copy.splice(i, 1);
          else copy[i] = poke(copy[i], depth + 1);
        }
        return copy;
      }
      if (x && typeof x === 'object') {
        const o = { ...(x as Record<string, unknown>) };
        const keys = Object.keys(o);
        const k = keys[Math.floor(rnd() * keys.length)];
        if (k !== undefined) {
          if (rnd() < 0.2) delete o[k];
          else o[k] = poke(o[k], depth + 1);
        }
        return o;
      }
      return junk[Math.floor(rnd() * junk.length)];
    };
    const flows: Array<[string, string, number]> = [
      ['10.0.0.2', '172.30.0.44', 80],
      ['203.0.113.130', '5.6.7.8', 80],
      ['192.168.0.2', '192.168.99.22', 80],
    ];
    for (let c = 0; c < 1500; c++) {
      const asJson = c % 2 === 1;
      let input: string;
      if (asJson) {
        let doc: unknown = json;
        for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) doc = poke(doc, 0);
        input = rnd() < 0.1 ? JSON.stringify(doc).slice(0, Math.floor(rnd() * 20000)) : JSON.stringify(doc);
      } else input = mutate(text, rnd, [text]);
      const name = `nft-case-${c}`;
      try {
        const parsed = parseNft(input, name);
        checkProblems(parsed.problems, name, input);
        const node = loadNodeDumps({
          [asJson ? 'nftJson' : 'nftText']: { text: input, file: name },
          addr: { text: '2: eth0    inet 192.168.0.2/24 scope global eth0\n', file: 'addr.txt' },
        });
        for (const [src, dst, dport] of flows) {
          const r = traceLbPacket(node, { src, dst, dport, filter: c % 3 === 0, hook: src === '192.168.0.2' ? 'OUTPUT' : 'PREROUTING' });
          const total = r.outcomes.reduce((sum, o) => sum + o.probability, 0);
          if (r.outcomes.length === 0 || Math.abs(total - 1) > 1e-9) throw new Error(`outcome probabilities sum to ${total}`);
        }
      } catch (err) {
        throw new Error(`nft fuzz case ${c} failed: ${(err as Error).stack}\n--- input ---\n${input.slice(0, 2000)}`);
      }
    }
  });

  it('random binary input', () => {
    const rnd = prng(42);
    for (let c = 0; c < 300; c++) {
      let s = '';
      const n = Math.floor(rnd() * 2000);
      for (let j = 0; j < n; j++) s += String.fromCharCode(Math.floor(rnd() * 256));
      expect(() => {
        parseIptablesSave(s, 'bin');
        parseIpset(s, 'bin');
        parseIpAddr(s, 'bin');
        parseConntrack(s, 'bin');
        parseNft(s, 'bin');
        parseNft('{' + s, 'bin');
        loadNodeDumps({ nftText: { text: s, file: 'bin' } });
        loadNodeDumps({
          iptablesSave: { text: s, file: 'bin' },
          ipset: { text: s, file: 'bin' },
          addr: { text: s, file: 'bin' },
          conntrack: { text: s, file: 'bin' },
        });
      }).not.toThrow();
    }
  });
});
