/** Every `docs/model.md#anchor` a message or help text cites is a heading of docs/model.md. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..', '..');

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files(path, out);
    else if (/\.(ts|tsx|md|ya?ml)$/.test(name)) out.push(path);
  }
  return out;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const line of markdown.split('\n')) {
    const m = /^#{1,6}\s+(.*)$/.exec(line);
    if (m)
      out.add(
        m[1]!
          .trim()
          .toLowerCase()
          .replace(/[^\w\- ]/g, '')
          .replace(/ /g, '-'),
      );
  }
  return out;
}

it('the cited sections of docs/model.md exist', () => {
  const known = anchors(readFileSync(join(ROOT, 'docs', 'model.md'), 'utf8'));
  const cited = new Map<string, string>();
  for (const dir of ['packages/core/src', 'apps/cli/src', 'apps/exporter/src', 'apps/slack-bot/src', 'deploy']) {
    let list: string[] = [];
    try {
      list = files(join(ROOT, dir));
    } catch {
      continue;
    }
    for (const f of list) for (const m of readFileSync(f, 'utf8').matchAll(/docs\/model\.md#([a-z0-9-]+)/g)) cited.set(m[1]!, f);
  }
  for (const m of readFileSync(join(ROOT, 'README.md'), 'utf8').matchAll(/docs\/model\.md#([a-z0-9-]+)/g)) cited.set(m[1]!, 'README.md');
  expect(cited.size).toBeGreaterThan(3);
  expect([...cited].filter(([a]) => !known.has(a)).map(([a, f]) => `${a} (${f})`)).toEqual([]);
  expect(known.has('not-a-section')).toBe(false);
});
