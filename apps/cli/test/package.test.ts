/**
 * The CLI and the core are publishable: what `npm pack` would put in each tarball carries the
 * licence, a README, `engines`, `repository`, and for the CLI both commands (loopscope and the
 * kubectl plugin) as executable files that exist before any build.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

const ROOT = join(__dirname, '..', '..', '..');

function packed(workspace: string): { name: string; files: string[] } {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--workspace', workspace], { cwd: ROOT, encoding: 'utf8' });
  expect(r.status).toBe(0);
  const [result] = JSON.parse(r.stdout) as Array<{ name: string; files: Array<{ path: string }> }>;
  return { name: result!.name, files: result!.files.map((f) => f.path) };
}

jest.setTimeout(60_000);

describe('npm pack', () => {
  it.each([
    ['@loopscope/cli', 'apps/cli'],
    ['@loopscope/core', 'packages/core'],
  ])('%s carries LICENSE, README, engines >=22 and repository', (workspace, dir) => {
    const { name, files } = packed(workspace);
    expect(name).toBe(workspace);
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json']));
    expect(files.some((f) => f.startsWith('dist/'))).toBe(true);
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/'))).toBe(false);
    const pkg = readJson(join(ROOT, dir, 'package.json'));
    expect(pkg.engines).toEqual({ node: '>=22' });
    expect(pkg.repository).toEqual(expect.objectContaining({ type: 'git', directory: dir }));
    expect(pkg.license).toBe('Apache-2.0');
  });

  it('the CLI ships both commands as executables that exist before the build', () => {
    const pkg = readJson(join(ROOT, 'apps/cli/package.json'));
    expect(pkg.bin).toEqual({ loopscope: 'bin/loopscope', 'kubectl-loopscope': 'bin/kubectl-loopscope' });
    const { files } = packed('@loopscope/cli');
    for (const bin of Object.values(pkg.bin) as string[]) {
      expect(files).toContain(bin);
      expect(statSync(join(ROOT, 'apps/cli', bin)).mode & 0o111).toBeTruthy();
    }
    expect(files).toContain('bin/launch.js');
    expect(readJson(join(ROOT, 'package.json')).engines).toEqual({ node: '>=22' });
  });

  it('on a Node older than engines allows, both commands say so in one line (not an internal error)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { nodeTooOld, MIN_NODE } = require('../bin/launch.js') as { nodeTooOld(v: string): string | undefined; MIN_NODE: number };
    expect(`>=${MIN_NODE}`).toBe(readJson(join(ROOT, 'apps/cli/package.json')).engines.node);
    expect(nodeTooOld('v20.20.2')).toBe('loopscope: needs Node 22 or later (this is Node v20.20.2)\n');
    expect(nodeTooOld('v18.0.0')).toBeDefined();
    expect(nodeTooOld('v22.0.0')).toBeUndefined();
    expect(nodeTooOld('v24.21.0')).toBeUndefined();
    expect(nodeTooOld(process.version)).toBeUndefined();
  });
});
