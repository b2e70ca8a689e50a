/**
 * An answer too large for one Slack message: a generated cluster where one workload is exposed to
 * dozens of looping Services, served by a real exporter from a snapshot file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCluster, clusterFromObjects, explain, workloadLabel } from '@loopscope/core';
import { generateCluster, toKubeList } from '@loopscope/generator';
import { startExporter, type RunningExporter } from '@loopscope/testkit';
import { SIGNING_SECRET, startBot, type RunningBot } from './support/runningBot';
import { blockKitProblems, mentionBody, postToBot, SlackStandIn } from './support/slackStandIn';

jest.setTimeout(90_000);

let dir: string;
let slack: SlackStandIn;
let exporter: RunningExporter;
let bot: RunningBot;
let widest: { label: string; services: string[] };

beforeAll(async () => {
  const generated = generateCluster({
    seed: 3,
    provider: 'tke',
    proxyMode: 'ipvs',
    nodes: 40,
    pods: 1200,
    services: 300,
    internalLbServices: 150,
    publicLbServices: 5,
    localShare: 0.7,
    fixedBuildShare: 0,
    preventLoopbackShare: 0,
    directToPodShare: 0.2,
  });
  const list = toKubeList(generated);
  dir = mkdtempSync(join(tmpdir(), 'loopscope-slack-large-'));
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify(list));
  // The workload exposed to the most looping Services (found with the same core the exporter runs).
  const cluster = clusterFromObjects(list);
  const analysis = analyzeCluster(cluster);
  widest = { label: '', services: [] };
  for (const w of cluster.workloads) {
    if (w.kind === 'Pod') continue;
    const r = explain(analysis, workloadLabel(w));
    if (r.ok && r.explanation.services.length > widest.services.length)
      widest = { label: workloadLabel(w), services: r.explanation.services.map((s) => `${s.namespace}/${s.name}`) };
  }
  slack = new SlackStandIn();
  await slack.start();
  exporter = await startExporter(['--snapshot', join(dir, 'cluster.json')]);
  bot = await startBot(slack, { clusters: [{ name: 'big', url: exporter.url }], dashboardUrl: 'https://grafana.example.com/d/loopscope' });
});

afterAll(async () => {
  await bot?.stop();
  await exporter?.stop();
  await slack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a workload exposed to dozens of Services: cut between Services, within 50 blocks and 3,000 characters a section', async () => {
  expect(widest.services.length).toBeGreaterThan(30);
  await postToBot(bot.url, mentionBody(`why is ${widest.label} timing out`, { ts: '1700002000.000100' }), { secret: SIGNING_SECRET });
  const [reply] = await slack.waitFor((p) => p.thread_ts === '1700002000.000100', 30_000);
  const blocks = reply!.blocks;
  expect(blockKitProblems(blocks)).toEqual([]);
  expect(blocks.length).toBeGreaterThan(40);
  expect(blocks.length).toBeLessThanOrEqual(50);

  const sections = blocks.filter((b) => b.type === 'section').map((b) => b.text.text as string);
  expect(sections[0]).toMatch(
    new RegExp(
      `^:red_circle: \\*${widest.label}\\*: \\*loopback\\*, up to \\*[\\d.]+%\\* of its new connections time out \\(towards ${widest.services.length} Services\\)`,
    ),
  );
  // The worst Service in full (its packet path); the Services shown plus those named as cut add up.
  expect(sections.filter((s) => s.startsWith('*Packet path*'))).toHaveLength(1);
  const shown = sections.map((s) => /^:\w+: \*([\w.-]+\/[\w.-]+)\*: \*(?:loopback|safe)\*/.exec(s)?.[1]).filter(Boolean);
  const cut = blocks.find((b) => b.type === 'context' && b.elements[0].text.startsWith(':scissors:'))!.elements[0].text as string;
  expect(cut).toMatch(
    /^:scissors: Cut to fit one Slack message: not shown: [\w./-]+ \([\d.]+%\), .* and \d+ more\. The whole answer: <https:\/\/grafana\.example\.com\/d\/loopscope\?var-cluster=big&var-namespace=\w+\|the dashboard> or `loopscope explain /,
  );
  const notShown = Number(/and (\d+) more\./.exec(cut)![1]) + 6;
  expect(shown.length + notShown).toBe(widest.services.length);
  expect(shown).toEqual(widest.services.slice(0, shown.length));
  // The dashboard button and the terminal command stay at the end.
  expect(blocks[blocks.length - 2].type).toBe('actions');
  expect(blocks[blocks.length - 1].elements[0].text).toMatch(/^Full detail from a terminal: `loopscope explain /);
  // The fallback text is cut too, saying so.
  expect(reply!.text.length).toBeLessThanOrEqual(3000);
  expect(reply!.text).toMatch(/… \(cut: \d+ more lines\)$/);
});

test('"which services are at risk" on the large cluster: the worst five with figures and links, then the dashboard for the rest', async () => {
  await postToBot(bot.url, mentionBody('which services are at risk', { ts: '1700002000.000200' }), { secret: SIGNING_SECRET });
  const [reply] = await slack.waitFor((p) => p.thread_ts === '1700002000.000200', 30_000);
  expect(blockKitProblems(reply!.blocks)).toEqual([]);
  expect(reply!.blocks.length).toBeLessThanOrEqual(5);
  const sections = reply!.blocks.filter((b) => b.type === 'section').map((b) => b.text.text as string);
  const count = Number(/\*(\d+) Services at risk\*/.exec(sections[0]!)![1]);
  expect(count).toBeGreaterThan(50);
  // The five shown are the exporter's worst five, each linked to the dashboard filtered to it.
  const full = (await (await fetch(`${exporter.url}/api/v1/services?verdict=loopback&fixes=false`)).json()) as {
    services: Array<{ namespace: string; name: string; worstClientProbability: number }>;
  };
  expect(full.services).toHaveLength(count);
  // Worst first by the worst-client figure (what the worst-placed client suffers).
  const worst = Math.max(...full.services.map((s) => s.worstClientProbability));
  const lines = sections[1]!.split('\n');
  expect(lines).toHaveLength(5);
  const first =
    /^1\. \*<https:\/\/grafana\.example\.com\/d\/loopscope\?var-cluster=big&var-namespace=([\w-]+)&var-service=([\w-]+)\|([\w-]+)\/([\w-]+)>\* \*up to ([\d.]+)%\* · \d+ client pods? on \d+ nodes? · \d+ workloads? · exposure [<\d.]+%$/.exec(
      lines[0]!,
    );
  expect(first).not.toBeNull();
  expect([first![1], first![2]]).toEqual([first![3], first![4]]);
  expect(Number(first![5])).toBeCloseTo(worst * 100, 1);
  const more = reply!.blocks.find((b) => b.type === 'context')!.elements[0].text as string;
  expect(more).toBe(`… and ${count - 5} more Services at risk: the dashboard lists them all, worst first`);
  const button = reply!.blocks.find((b) => b.type === 'actions')!.elements[0];
  expect(button.text.text).toBe(`All ${count} at-risk Services`);
  expect(button.url).toBe('https://grafana.example.com/d/loopscope?var-cluster=big');
});
