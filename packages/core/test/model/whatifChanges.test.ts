/** What-if changes from outside, checked once for the CLI, the exporter's body and the Slack bot. */
import { LoopscopeError, parseWhatIfChange, parseWhatIfChanges, parseWhatIfChangeSpec } from '../../src';

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LoopscopeError);
    expect((err as LoopscopeError).code).toBe('CHANGE_INVALID');
    return (err as Error).message;
  }
  throw new Error('expected CHANGE_INVALID');
}

describe('parseWhatIfChanges', () => {
  it('accepts every kind with its fields', () => {
    const changes = [
      { kind: 'trafficPolicy', service: 'a/b', value: 'Cluster' },
      { kind: 'ipMode', service: 'b', value: 'Proxy' },
      { kind: 'preventLoopback', service: 'b', value: false },
      { kind: 'kubeProxyVersion', version: 'tke-fixed', nodes: ['n1'] },
      { kind: 'moveClients', service: 'b', workloads: ['deployment/x'] },
      { kind: 'callViaClusterIP', service: 'b' },
    ];
    expect(parseWhatIfChanges({ changes })).toEqual(changes);
  });
  it('names the change and field of what it refuses', () => {
    expect(message(() => parseWhatIfChanges({}))).toBe('expected {"changes": [ … ]} with at least one change');
    expect(message(() => parseWhatIfChanges({ changes: [{ kind: 'ipMode', service: 'x', value: 'Maybe' }] }))).toBe(
      'changes[0].value: "Maybe" is not one of VIP, Proxy',
    );
    expect(message(() => parseWhatIfChanges({ changes: [{ kind: 'callViaClusterIP', service: 'x' }, { kind: 'reboot' }] }))).toMatch(
      /^changes\[1\]\.kind: "reboot" is not one of trafficPolicy, /,
    );
    expect(message(() => parseWhatIfChanges({ changes: [null] }))).toBe('changes[0]: expected an object with a "kind"');
    expect(message(() => parseWhatIfChanges({ changes: [{ kind: 'trafficPolicy', value: 'Local' }] }))).toBe(
      'changes[0].service: expected a string',
    );
    expect(message(() => parseWhatIfChanges({ changes: [{ kind: 'kubeProxyVersion', version: 'x'.repeat(500) }] }))).toMatch(
      /^changes\[0\]\.version: expected a kube-proxy version/,
    );
    expect(message(() => parseWhatIfChanges({ changes: new Array(5000).fill({ kind: 'callViaClusterIP', service: 'x' }) }))).toBe(
      'changes: at most 1000 changes at once (got 5000)',
    );
  });
  it('names a flag when the CLI gives one, and a spec needs no Service', () => {
    expect(message(() => parseWhatIfChange({ kind: 'trafficPolicy', service: 'x', value: 'Sideways' }, () => '--traffic-policy'))).toBe(
      '--traffic-policy: "Sideways" is not one of Local, Cluster',
    );
    expect(parseWhatIfChangeSpec({ kind: 'moveClients' })).toEqual({ kind: 'moveClients' });
  });
});
