/**
 * Shell completion, run in a real bash: the generated script is sourced and its completion function
 * called the way bash's programmable completion calls it (COMP_WORDS, COMP_CWORD → COMPREPLY).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const MAIN = join(__dirname, '..', 'dist', 'main.js');

function loopscope(args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What bash offers after typing WORDS (the last one being completed). */
function complete(words: string[]): string[] {
  const script = loopscope(['completion', 'bash']).stdout;
  const program = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _loopscope; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['-c', program], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean);
}

describe('loopscope completion', () => {
  it('bash: commands, each command’s flags, and flag values from the help texts', () => {
    expect(complete(['loopscope', ''])).toEqual(
      expect.arrayContaining(['analyze', 'explain', 'whatif', 'trace', 'generate', 'completion']),
    );
    expect(complete(['loopscope', 'ex'])).toEqual(['explain']);
    expect(complete(['loopscope', 'analyze', '--con'])).toEqual(['--context']);
    expect(complete(['loopscope', 'analyze', '-o', ''])).toEqual(['table', 'wide', 'json', 'markdown']);
    expect(complete(['loopscope', 'explain', '--format', 'm'])).toEqual(['markdown']);
    expect(complete(['loopscope', 'whatif', '--traffic-policy', ''])).toEqual(['Local', 'Cluster']);
    expect(complete(['loopscope', 'trace', '--ho'])).toEqual(['--hook']);
    expect(complete(['kubectl-loopscope', 'analyze', '--proxy-mode', 'ip'])).toEqual(['iptables', 'ipvs']);
  });

  it('bash: every flag a command parses is offered (no flag left out of its help)', () => {
    for (const [command, flags] of Object.entries({
      analyze: [
        '--kubeconfig',
        '--context',
        '--namespace',
        '-n',
        '--snapshot',
        '--demo',
        '--format',
        '-o',
        '--compact',
        '--fail-on-risk',
        '--max-links',
        '--all',
        '--node-dumps',
        '--provider',
      ],
      explain: ['--kubeconfig', '--context', '--snapshot', '--demo', '--format', '-o', '--compact', '--node-dumps'],
      whatif: [
        '--context',
        '--snapshot',
        '--demo',
        '--traffic-policy',
        '--ip-mode',
        '--prevent-loopback',
        '--move-clients',
        '--via-cluster-ip',
        '--kube-proxy-version',
        '--nodes',
      ],
      generate: ['--nodes', '--pods', '--services', '--internal-lb', '--out', '--seed', '--pods-per-file'],
    })) {
      expect(complete(['loopscope', command, '-'])).toEqual(expect.arrayContaining(flags));
    }
  });

  it('zsh: the script defines the completion function with the same commands and values', () => {
    const zsh = loopscope(['completion', 'zsh']);
    expect(zsh.code).toBe(0);
    expect(zsh.stdout.split('\n')[0]).toBe('#compdef loopscope kubectl-loopscope');
    expect(zsh.stdout).toContain("'analyze:find every Service at risk of internal-LB loopback'");
    expect(zsh.stdout).toContain('analyze:-o) compadd -- table wide json markdown; return ;;');
    expect(zsh.stdout).toContain('compdef _loopscope loopscope kubectl-loopscope');
  });

  it('an unknown shell is a usage error, exit 2', () => {
    const r = loopscope(['completion', 'fish']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('loopscope: completion: give bash or zsh (e.g. `source <(loopscope completion bash)`)\n');
  });
});
