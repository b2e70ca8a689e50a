/**
 * No text the CLI prints cites the team's model page by number ("(docs/model.md)", "docs/model.md"): users do not have
 * it. Citations name a public source or a section of docs/model.md. Runs the built CLI on the demo,
 * with and without the demo's node dumps: every format, every Service explained, what-ifs, and
 * the help of every command.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAIN = join(__dirname, '..', 'dist', 'main.js');
const DUMPS = join(require.resolve('@loopscope/demo/demo-cluster.json'), '..', 'node-dumps');
const HERMETIC: NodeJS.ProcessEnv = {
  ...process.env,
  HOME: mkdtempSync(join(tmpdir(), 'loopscope-cite-')),
  KUBECONFIG: '',
  COLUMNS: '100',
};
/** A citation of the model page's facts or sections: "(docs/model.md)", "(docs/model.md)", "docs/model.md)", "docs/model.md". */
export const PAGE_CITATION = /\(F[0-9]+|F[0-9]+\)|§/;

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: HERMETIC });
  return `${r.stdout}\n${r.stderr}`;
}

function citations(text: string): string[] {
  return text.split('\n').filter((l) => PAGE_CITATION.test(l));
}

describe('no model-page citations in what the CLI prints', () => {
  const evidence: Array<[string, string[]]> = [
    ['without node dumps', []],
    ['with the node dumps', ['--node-dumps', DUMPS]],
  ];
  const services = (
    JSON.parse(cli(['analyze', '--demo', '-o', 'json']).split('\n')[0]!) as { services: Array<{ namespace: string; name: string }> }
  ).services.map((s) => `${s.namespace}/${s.name}`);

  it('the check itself finds a citation', () => {
    expect(citations('the packet leaves for the CLB (F2)\nsee §4\nok (F2, F3) here')).toHaveLength(3);
    expect(citations('kubernetes#79783 (KEP-1860), FIN_WAIT2)')).toHaveLength(0);
  });

  it.each(evidence)('analyze in every format, %s', (_, extra) => {
    for (const format of ['table', 'wide', 'json', 'markdown'])
      expect(citations(cli(['analyze', '--demo', '--all', '-o', format, ...extra]))).toEqual([]);
  });

  it.each(evidence)('explain every demo Service in every format, %s', (_, extra) => {
    expect(services.length).toBeGreaterThan(5);
    for (const svc of services)
      for (const format of ['text', 'markdown', 'json'])
        expect(citations(cli(['explain', svc, '--demo', '-o', format, ...extra]))).toEqual([]);
    for (const target of ['deployment/checkout-api', '10.0.3.15:8080', 'checkout/deployment/checkout-api'])
      expect(citations(cli(['explain', target, '--demo', ...extra]))).toEqual([]);
  });

  it('what-if, each change, text and json', () => {
    const changes = [
      ['--traffic-policy', 'Cluster'],
      ['--ip-mode', 'Proxy'],
      ['--prevent-loopback', 'true'],
      ['--move-clients'],
      ['--via-cluster-ip'],
    ];
    for (const change of changes)
      for (const format of ['text', 'json'])
        expect(citations(cli(['whatif', 'payments/payments-api', ...change, '--demo', '-o', format]))).toEqual([]);
    expect(citations(cli(['whatif', '--kube-proxy-version', 'tke-fixed', '--demo']))).toEqual([]);
  });

  it('the help of every command', () => {
    for (const args of [['--help'], ...['analyze', 'explain', 'whatif', 'trace', 'generate', 'completion'].map((c) => [c, '--help'])]) {
      const text = cli(args);
      expect(text.length).toBeGreaterThan(100);
      expect(citations(text)).toEqual([]);
    }
  });
});
