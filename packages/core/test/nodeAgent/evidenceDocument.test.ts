/**
 * The node agent's evidence document as the exporter reads it: anything that is not one is refused
 * in one line; in one that is, every good dump and connection row is kept and the others counted.
 */
import { isLoopscopeError, MAX_AGENT_CONNECTIONS, readNodeAgentEvidence } from '../../src';

const row = { clientIp: '172.16.0.5', ingressIp: '10.0.3.15', ingressPort: 8080, protocol: 'tcp', opened: 3, replied: 1, unreplied: 2 };
const doc = (over: Record<string, unknown> = {}) => ({
  apiVersion: 'loopscope-node-evidence/v1',
  node: 'node-a',
  startedAt: '2026-12-02T00:00:00.000Z',
  dumps: { iptablesSave: { status: 'ok', text: '*nat\nCOMMIT\n', collectedAt: '2026-12-02T00:00:01.000Z' } },
  connections: [row],
  ...over,
});

function refusal(value: unknown): string {
  try {
    readNodeAgentEvidence(value);
  } catch (err) {
    expect(isLoopscopeError(err) && err.code).toBe('INPUT_INVALID');
    return (err as Error).message;
  }
  throw new Error('accepted');
}

it('refuses what is not an evidence document, in one line', () => {
  expect(refusal(null)).toBe('not a loopscope-node-evidence/v1 document');
  expect(refusal([doc()])).toBe('not a loopscope-node-evidence/v1 document');
  expect(refusal(doc({ apiVersion: 'loopscope-node-evidence/v2' }))).toBe('not a loopscope-node-evidence/v1 document');
  expect(refusal(doc({ node: '' }))).toBe('a loopscope-node-evidence/v1 document without a node name');
  expect(refusal(doc({ node: 'n'.repeat(254) }))).toBe('a loopscope-node-evidence/v1 document without a node name');
  expect(refusal(doc({ connections: {} }))).toBe('a loopscope-node-evidence/v1 document without a connections array');
});

it('keeps good rows (addresses canonical, protocol in lower case) and counts the others', () => {
  const read = readNodeAgentEvidence(
    doc({
      connections: [
        { ...row, ingressIp: '010.0.3.15' },
        { ...row, protocol: 'TCP', clientIp: 'FD00::0005', ingressIp: 'fd00::a', service: 'payments/payments-api' },
        { ...row, protocol: 'icmp' },
        { ...row, opened: -1 },
        { ...row, replied: 1.5 },
        { ...row, ingressPort: 0 },
        { ...row, service: 'not a service', lastUnrepliedAt: 'yesterday' },
        7,
      ],
    }),
  );
  expect(read.connections).toEqual([
    row, // 010.0.3.15 written canonically
    { ...row, clientIp: 'fd00::5', ingressIp: 'fd00::a', service: 'payments/payments-api' },
    row, // the row kept, its unreadable service and time left out
  ]);
  expect(read.droppedConnections).toBe(5);
});

it('keeps dumps with text only, and caps the rows', () => {
  const many = Array.from({ length: MAX_AGENT_CONNECTIONS + 10 }, () => row);
  const read = readNodeAgentEvidence(
    doc({
      dumps: { iptablesSave: { status: 'ok', text: '*nat\n' }, ipset: { status: 'failed' }, addr: 'text', x: null },
      connections: many,
    }),
  );
  expect([...read.dumps.keys()]).toEqual(['iptablesSave']);
  expect(read.connections).toHaveLength(MAX_AGENT_CONNECTIONS);
  expect(read.droppedConnections).toBe(10);
});
