import { ConnectionCounters } from '../src/conntrack/connectionCounters';
import { parseConntrackEvent } from '../src/conntrack/event';
import { IngressSet, parseIngressFlag } from '../src/ingress/ingressSet';

// Lines as conntrack-tools 1.4.7 prints them with `-E -o timestamp,id` (captured on this kernel).
const NEW =
  '[1796179842.877498]\t    [NEW] tcp      6 120 SYN_SENT src=10.0.1.5 dst=10.0.3.15 sport=40818 dport=8080 [UNREPLIED] src=10.0.3.15 dst=10.0.1.5 sport=8080 dport=40818 id=371';
const REPLY =
  '[1796179842.900000]\t [UPDATE] tcp      6 60 SYN_RECV src=10.0.1.5 dst=10.0.3.15 sport=40818 dport=8080 src=10.0.3.15 dst=10.0.1.5 sport=8080 dport=40818 id=371';
const ESTABLISHED =
  '[1796179842.900100]\t [UPDATE] tcp      6 432000 ESTABLISHED src=10.0.1.5 dst=10.0.3.15 sport=40818 dport=8080 src=10.0.3.15 dst=10.0.1.5 sport=8080 dport=40818 [ASSURED] id=371';
const DESTROY_REPLIED =
  '[1796179843.000000]\t[DESTROY] tcp      6 src=10.0.1.5 dst=10.0.3.15 sport=40818 dport=8080 src=10.0.3.15 dst=10.0.1.5 sport=8080 dport=40818 [ASSURED] id=371';
const destroyUnreplied = (id: string, src = '10.0.1.5') =>
  `[1796179962.877521]\t[DESTROY] tcp      6 120 CLOSE src=${src} dst=10.0.3.15 sport=40819 dport=8080 [UNREPLIED] src=10.0.3.15 dst=${src} sport=8080 dport=40819 id=${id}`;
const newUnreplied = (id: string, src = '10.0.1.5') =>
  destroyUnreplied(id, src).replace('[DESTROY]', '    [NEW]').replace('120 CLOSE', '120 SYN_SENT');

function counters(limits = { maxTrackedFlows: 100, maxSeries: 100 }) {
  const ingress = new IngressSet();
  ingress.replace([parseIngressFlag('10.0.3.15:8080'), { ...parseIngressFlag('[fd00:10::5]:443'), service: 'prod/api' }]);
  return new ConnectionCounters(ingress, limits);
}

describe('conntrack event lines', () => {
  it('reads the original tuple, the flag of the original direction and the id', () => {
    expect(parseConntrackEvent(NEW)).toEqual({
      type: 'NEW',
      timestamp: 1796179842.877498,
      protocol: 'tcp',
      src: '10.0.1.5',
      dst: '10.0.3.15',
      dport: 8080,
      id: '371',
      unreplied: true,
    });
    expect(parseConntrackEvent(REPLY)?.unreplied).toBe(false);
    // [UNREPLIED] after the reply tuple's src= is not the original direction's flag.
    expect(parseConntrackEvent(REPLY.replace(' id=', ' [UNREPLIED] id='))?.unreplied).toBe(false);
  });

  it('rejects what is not an event', () => {
    for (const line of [
      '',
      'conntrack v1.4.7 (conntrack-tools): 8 flow events have been shown.',
      '[NEW] tcp src=1.2.3.4',
      'garbage dst=1.2.3.4',
      NEW.replace('dport=8080', 'dport=99999'),
      'x'.repeat(5000),
    ]) {
      expect(parseConntrackEvent(line)).toBeUndefined();
    }
  });
});

describe('connection counters', () => {
  it('counts a connection replied once, however many updates follow', () => {
    const c = counters();
    for (const l of [NEW, REPLY, ESTABLISHED, DESTROY_REPLIED]) c.line(l);
    expect(c.all()).toEqual([
      expect.objectContaining({
        clientIp: '10.0.1.5',
        ingressIp: '10.0.3.15',
        ingressPort: 8080,
        protocol: 'tcp',
        opened: 1,
        replied: 1,
        unreplied: 0,
      }),
    ]);
    expect(c.trackedFlows).toBe(0);
  });

  it('counts a connection destroyed while unreplied as unreplied, with its time', () => {
    const c = counters();
    c.line(newUnreplied('9'));
    c.line(destroyUnreplied('9'));
    expect(c.all()[0]).toMatchObject({ opened: 1, replied: 0, unreplied: 1, lastUnrepliedAt: 1796179962878 });
  });

  it('counts an unreplied DESTROY of a flow it never saw open, but never a replied one twice', () => {
    const c = counters();
    c.line(destroyUnreplied('1')); // opened before the agent started
    c.line(DESTROY_REPLIED); // replied before the agent started: unknown when, not counted
    expect(c.all()[0]).toMatchObject({ opened: 0, replied: 0, unreplied: 1 });
  });

  it('ignores other destinations, ports and protocols', () => {
    const c = counters();
    c.line(NEW.replace(/dst=10\.0\.3\.15/, 'dst=10.0.3.16'));
    c.line(NEW.replace('dport=8080', 'dport=8081'));
    c.line(NEW.replace(' tcp ', ' udp '));
    expect(c.all()).toEqual([]);
    expect(c.events).toBe(3);
  });

  it('matches IPv6 ingress points whatever their spelling', () => {
    const c = counters();
    c.line(
      '[1.5]\t    [NEW] tcp      6 120 SYN_SENT src=fd00:10:244:1::5 dst=fd00:10:0:0::5 sport=1 dport=443 [UNREPLIED] src=fd00:10::5 dst=fd00:10:244:1::5 sport=443 dport=1 id=7',
    );
    expect(c.all()).toEqual([
      expect.objectContaining({ clientIp: 'fd00:10:244:1::5', ingressIp: 'fd00:10::5', service: 'prod/api', opened: 1 }),
    ]);
  });

  it('stays bounded: the oldest pending flows are evicted, new pairs beyond the cap are dropped and counted', () => {
    const c = counters({ maxTrackedFlows: 10, maxSeries: 3 });
    for (let i = 0; i < 50; i++) c.line(newUnreplied(String(i), `10.0.1.${i % 5}`));
    expect(c.trackedFlows).toBeLessThanOrEqual(10);
    expect(c.evicted).toBeGreaterThan(0);
    expect(c.all()).toHaveLength(3);
    expect(c.seriesDropped).toBe(20); // 2 of 5 clients × 10 connections each
    // An evicted flow's DESTROY is still counted from the line itself.
    c.line(destroyUnreplied('0', '10.0.1.0'));
    expect(c.all().find((x) => x.clientIp === '10.0.1.0')?.unreplied).toBe(1);
  });
});

describe('--ingress', () => {
  it('takes IPv4, bracketed IPv6 and a protocol, and names a bad value', () => {
    expect(parseIngressFlag('10.0.3.15:53/udp')).toEqual({ ip: '10.0.3.15', port: 53, protocol: 'udp' });
    expect(parseIngressFlag('[FD00:10:0::5]:443')).toEqual({ ip: 'fd00:10::5', port: 443, protocol: 'tcp' });
    for (const bad of ['10.0.3.15', '10.0.3.300:80', '10.0.3.15:0', 'host:80', '10.0.3.15:80/icmp'])
      expect(() => parseIngressFlag(bad)).toThrow(`--ingress ${bad}: expected IP:PORT`);
  });
});
