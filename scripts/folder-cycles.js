#!/usr/bin/env node
// Folder-level import graph of packages/core/src: prints every edge and fails (exit 1) on a cycle.
// Usage: node scripts/folder-cycles.js [srcDir]   (the core's test runs it too)
const fs = require('node:fs');
const path = require('node:path');

function folderGraph(src) {
  const edges = new Map(); // from folder → Map(to folder → example "file → import")
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) {
        const from = folderOf(src, p);
        const text = fs.readFileSync(p, 'utf8');
        for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"](\.[^'"]*)['"]/g)) {
          const target = path.resolve(path.dirname(p), m[1]);
          // `./nftables` names a folder's index.ts: that folder, not its parent.
          const to =
            fs.existsSync(target) && fs.statSync(target).isDirectory()
              ? path.relative(src, target).split(path.sep).join('/') || 'index'
              : folderOf(src, target);
          if (to === from) continue;
          if (!edges.has(from)) edges.set(from, new Map());
          if (!edges.get(from).has(to)) edges.get(from).set(to, `${path.relative(src, p)} → ${m[1]}`);
        }
      }
    }
  };
  walk(src);
  return edges;
}

/**
 * The folder a file belongs to, nested folders included (netfilter/iptables is a node of its own, so a
 * cycle between a folder and its sub-folder counts); files directly in src/ (index.ts) are their own node.
 */
function folderOf(src, file) {
  const rel = path.relative(src, file).split(path.sep);
  return rel.length > 1 ? rel.slice(0, -1).join('/') : rel[0].replace(/\.tsx?$/, '');
}

function findCycles(edges) {
  const cycles = [];
  const state = new Map();
  const stack = [];
  const visit = (n) => {
    state.set(n, 'open');
    stack.push(n);
    for (const to of edges.get(n)?.keys() ?? []) {
      if (state.get(to) === 'open') cycles.push([...stack.slice(stack.indexOf(to)), to]);
      else if (!state.has(to)) visit(to);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...edges.keys()].sort()) if (!state.has(n)) visit(n);
  return cycles;
}

module.exports = { folderGraph, findCycles };

if (require.main === module) {
  const src = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'packages', 'core', 'src'));
  const edges = folderGraph(src);
  for (const [from, tos] of [...edges].sort()) console.log(`${from} → ${[...tos.keys()].sort().join(', ')}`);
  const cycles = findCycles(edges);
  for (const c of cycles) {
    console.error(`cycle: ${c.join(' → ')}`);
    for (let i = 0; i + 1 < c.length; i++) console.error(`  ${edges.get(c[i]).get(c[i + 1])}`);
  }
  process.exit(cycles.length ? 1 : 0);
}
