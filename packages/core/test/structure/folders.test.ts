/**
 * Data flows one way between the folders of src/: no import cycle between them. The same check
 * runs as `node scripts/folder-cycles.js` (it prints the folder graph).
 */
import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { folderGraph, findCycles } = require('../../../../scripts/folder-cycles.js') as {
  folderGraph(src: string): Map<string, Map<string, string>>;
  findCycles(edges: Map<string, Map<string, string>>): string[][];
};

const SRC = join(__dirname, '..', '..', 'src');

it('has no import cycle between the folders of packages/core/src, sub-folders included', () => {
  const edges = folderGraph(SRC);
  expect(findCycles(edges).map((c) => c.join(' → '))).toEqual([]);
});

it('reads evidence through an interface: analysis imports neither evidence/ nor the loader', () => {
  const edges = folderGraph(SRC);
  expect([...(edges.get('analysis')?.keys() ?? [])]).not.toEqual(expect.arrayContaining(['evidence']));
  expect(edges.get('analysis')?.has('load')).toBeFalsy();
  expect(edges.get('evidence')?.has('analysis')).toBe(true); // it implements analysis's interface
});

it('keeps the Kubernetes vocabulary under kube/: kube imports no other folder', () => {
  expect([...(folderGraph(SRC).get('kube')?.keys() ?? [])]).toEqual([]);
});

it('finds a cycle when there is one (the check can fail)', () => {
  const edges = new Map([
    ['a', new Map([['b', 'a/x.ts → ../b/y']])],
    ['b', new Map([['a', 'b/y.ts → ../a/x']])],
  ]);
  expect(findCycles(edges)).toEqual([['a', 'b', 'a']]);
});
