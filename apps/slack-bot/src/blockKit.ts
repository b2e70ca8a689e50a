import { formatP, formatProbability, type ServiceExplanation, type Verdict } from '@loopscope/core';
import type {
  ActionsBlock,
  Button as SlackButton,
  ContextBlock,
  DividerBlock,
  KnownBlock,
  MrkdwnElement,
  PlainTextElement,
  SectionBlock,
} from '@slack/types';
import type { Answer, ExplanationAnswer, Option } from './answer';
import { renderPlainText } from './plainText';
import {
  atRiskEntry,
  byWorstClient,
  CAPABILITIES,
  plural,
  serviceLine,
  TARGET_FORMS,
  unavailableNote,
  verdictLine,
  verdictWord,
} from './wording';

/** Slack's limits (docs.slack.dev, Block Kit reference). */
export const LIMITS = {
  blocks: 50,
  sectionText: 3000,
  contextElementText: 2000,
  buttonText: 75,
  buttonValue: 2000,
  actionsElements: 25,
  /** Kept well under chat.postMessage's 40,000 (Slack advises 4,000). */
  fallbackText: 3000,
} as const;

/**
 * The blocks this bot sends, as @slack/types (Slack's own Block Kit types) narrowed to the fields
 * it always sets: a section always has text, a context only text, an action row only buttons.
 */
export type TextObject = MrkdwnElement | PlainTextElement;
export type Button = SlackButton & { action_id: string };
export type Block =
  | (SectionBlock & { text: TextObject })
  | (ContextBlock & { elements: TextObject[] })
  | DividerBlock
  | (ActionsBlock & { elements: Button[] });

/** What chat.postMessage and response URLs take: blocks plus the plain-text fallback. */
export interface SlackMessage {
  text: string;
  blocks: Block[];
}

// Every block is one Slack knows: this fails to compile if Block drifts from @slack/types.
const _known: (b: Block) => KnownBlock = (b) => b;
void _known;

/** Action ids: a choice button carries the question it answers, as JSON, in its value. */
export const CHOOSE_ACTION = /^loopscope_choose_\d+$/;
export const DASHBOARD_ACTION = 'loopscope_dashboard';

const MAX_OPTIONS = 10;

/** `&`, `<` and `>` are control characters in Slack text. */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A figure for mrkdwn: "<0.1%" would open a link or mention. */
const mrkdwnPct = (p: number): string => esc(formatProbability(p));

const b = (s: string): string => `*${s}*`;

/** Cuts text to `max` characters at a line end, saying how much was left out. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const room = max - 40;
  let cut = text.lastIndexOf('\n', room);
  if (cut < room / 2) cut = room;
  const omitted = text
    .slice(cut)
    .split('\n')
    .filter((l) => l.trim()).length;
  return `${text.slice(0, cut).trimEnd()}\n… (cut: ${plural(omitted, 'more line')})`;
}

function section(text: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text: clip(text, LIMITS.sectionText) } };
}

function context(...texts: string[]): Block {
  return {
    type: 'context',
    elements: texts.slice(0, 10).map((t) => ({ type: 'mrkdwn' as const, text: clip(t, LIMITS.contextElementText) })),
  };
}

const VERDICT_EMOJI: Record<Verdict, string> = {
  loopback: ':red_circle:',
  unreachable: ':no_entry:',
  safe: ':large_green_circle:',
  'not-applicable': ':white_circle:',
  unknown: ':grey_question:',
};

/**
 * Fills one message from the top: the head always, then whole units while they fit, then a note
 * naming what was left out — so a long answer is cut between its parts, never mid-sentence.
 */
class MessageBuilder {
  private readonly head: Block[] = [];
  private readonly units: Array<{ blocks: Block[]; label?: string }> = [];
  private readonly tail: Block[] = [];

  addHead(...blocks: Block[]): void {
    this.head.push(...blocks);
  }
  add(blocks: Block[], label?: string): void {
    if (blocks.length) this.units.push({ blocks, label });
  }
  addTail(...blocks: Block[]): void {
    this.tail.push(...blocks);
  }

  build(cutNote: (omitted: string[], count: number) => string): Block[] {
    const blocks = [...this.head];
    let room = LIMITS.blocks - this.head.length - this.tail.length;
    let i = 0;
    for (; i < this.units.length; i++) {
      const unit = this.units[i]!;
      const last = i === this.units.length - 1;
      // Keep one block for the cut note unless this is the last unit.
      if (unit.blocks.length > room - (last ? 0 : 1)) break;
      blocks.push(...unit.blocks);
      room -= unit.blocks.length;
    }
    if (i < this.units.length) {
      const omitted = this.units.slice(i);
      const labels = [...new Set(omitted.map((u) => u.label).filter((l): l is string => !!l))];
      blocks.push(context(`:scissors: ${cutNote(labels, omitted.length)}`));
    }
    return [...blocks, ...this.tail];
  }
}

export function renderBlocks(answer: Answer): SlackMessage {
  const m = new MessageBuilder();
  let fullAnswer = 'the dashboard';
  switch (answer.kind) {
    case 'explanation':
      explanation(m, answer);
      fullAnswer = `${answer.dashboardUrl ? `<${answer.dashboardUrl}|the dashboard> or ` : ''}\`${answer.cliCommand}\``;
      break;
    case 'choice':
      m.addHead(section(`:thinking_face: ${esc(answer.prompt)}`));
      m.add(choiceButtons(answer.options));
      break;
    case 'unknownTarget':
      m.addHead(
        section(
          `:mag: I could not find ${b(esc(answer.target))}${answer.clustersAsked.length > 1 ? ` in ${esc(answer.clustersAsked.join(', '))}` : ''}: ${esc(answer.message)}.`,
        ),
      );
      if (answer.suggestions.length) m.add([section(b('Did you mean…')), ...choiceButtons(answer.suggestions)]);
      m.add([context(esc(TARGET_FORMS))]);
      break;
    case 'atRisk':
      atRisk(m, answer);
      fullAnswer = '`loopscope analyze` or the dashboard';
      break;
    case 'whatIf': {
      const lines = answer.services.map(
        (s) =>
          `${VERDICT_EMOJI[s.after.verdict]} ${b(esc(`${s.namespace}/${s.name}`))}: ${verdictWord(s.before.verdict)} ${b(mrkdwnPct(s.before.probability))} → ${verdictWord(s.after.verdict)} ${b(mrkdwnPct(s.after.probability))}`,
      );
      m.addHead(
        section(`:crystal_ball: ${b(`What if ${esc(answer.change)}`)}${answer.showCluster ? ` (cluster ${b(esc(answer.cluster))})` : ''}`),
      );
      if (answer.assumed) m.addHead(context(esc(`(${answer.assumed})`)));
      for (let i = 0; i < Math.max(lines.length, 1); i += 20)
        m.add(
          [section(lines.slice(i, i + 20).join('\n') || 'No Service changes its verdict or figure.')],
          plural(Math.min(20, lines.length - i), 'Service'),
        );
      if (answer.dashboardUrl) m.addTail(dashboardButton(answer.dashboardUrl));
      break;
    }
    case 'help':
      m.addHead(
        section(
          answer.notUnderstood !== undefined
            ? `:wave: I did not understand “${esc(answer.notUnderstood)}”.${answer.hint ? ` ${esc(answer.hint)}` : ''} Here is what I can answer:`
            : ':wave: I explain why pods time out calling a Service through its internal load balancer (LB loopback). Ask me — mention me, DM me, or use `/loopscope`:',
        ),
      );
      m.add([section(CAPABILITIES.map((c) => `• \`${esc(c.ask)}\` — ${esc(c.what)}`).join('\n'))]);
      m.add([context(esc(TARGET_FORMS), `Clusters: ${esc(answer.clusters.join(', '))}`)]);
      break;
    case 'notice':
      m.addHead(
        section(
          `${answer.tone === 'error' ? ':x:' : answer.tone === 'warning' ? ':warning:' : ':information_source:'} ${answer.slackText ?? esc(answer.text)}`,
        ),
      );
      break;
  }
  if (answer.unavailable.length)
    m.addHead(
      context(
        `:warning: ${unavailableNote(
          answer.unavailable.map((u) => ({ cluster: esc(u.cluster), location: esc(u.location), reason: esc(u.reason) })),
          answer.kind !== 'notice',
          b,
        )}`,
      ),
    );
  const blocks = m.build(
    (labels, count) =>
      `Cut to fit one Slack message: ${labels.length ? `not shown: ${labels.slice(0, 6).join(', ')}${labels.length > 6 ? ` and ${labels.length - 6} more` : ''}` : plural(count, 'more part')}. The whole answer: ${fullAnswer}.`,
  );
  // The fallback is for notifications and clients without blocks: the short form (no packet path, no evidence).
  const fallback = renderPlainText(answer.kind === 'explanation' ? { ...answer, detail: 'brief' } : answer).trimEnd();
  return { text: clip(fallback, LIMITS.fallbackText), blocks };
}

function explanation(m: MessageBuilder, a: ExplanationAnswer): void {
  const e = a.explanation;
  const first = `${VERDICT_EMOJI[e.verdict]} ${verdictLine({ ...e, target: { ...e.target, label: esc(e.target.label) } }, b, mrkdwnPct, esc)}`;
  m.addHead(section(`${first}\n${esc(e.headline)}`));
  const facts = [a.showCluster ? `Cluster ${b(esc(a.cluster))}` : '', a.assumed ? esc(`(${a.assumed})`) : ''].filter(Boolean);
  if (facts.length) m.addHead(context(facts.join(' · ')));
  // A Service of its own heading only when it adds something (several Services, or a caller's view).
  const perService =
    e.services.length > 1 || ((e.target.kind === 'workload' || e.target.kind === 'pod') && e.services[0]?.headline !== e.headline);
  e.services.forEach((s, i) => {
    const label = `${s.namespace}/${s.name} (${formatProbability(s.probability)})`;
    const blocks: Block[] = [];
    if (perService)
      blocks.push(
        { type: 'divider' },
        section(
          `${VERDICT_EMOJI[s.verdict]} ${serviceLine({ ...s, namespace: esc(s.namespace), name: esc(s.name), ingress: s.ingress && esc(s.ingress) }, b, mrkdwnPct)}\n${esc(s.headline)}`,
        ),
      );
    // The first (worst) Service in full; the others briefly.
    serviceBlocks(blocks, s, i === 0 ? a.detail : 'brief');
    m.add(blocks, label);
  });
  if (a.checkInstead?.length)
    m.add([section(`${b('Check instead')}\n${a.checkInstead.map((c) => `• ${esc(c)}`).join('\n')}`)], 'what to check instead');
  if (a.dashboardUrl) m.addTail(dashboardButton(a.dashboardUrl));
  m.addTail(context(`Full detail from a terminal: \`${esc(a.cliCommand)}\``));
}

function serviceBlocks(out: Block[], s: ServiceExplanation, detail: 'full' | 'brief'): void {
  if (detail === 'full' && s.path.length) {
    const hops = s.path.map(
      (h, i) => `${i + 1}. ${h.fails ? ':x: ' : ''}${b(esc(h.at))}: ${esc(h.what)}${h.basis === 'observed' ? ' _(observed)_' : ''}`,
    );
    out.push(section(`${b('Packet path')}${s.clientNode ? ` (client on ${esc(s.clientNode)})` : ''}\n${hops.join('\n')}`));
  }
  const failing = s.path.find((h) => h.fails);
  if (detail === 'brief' && failing) out.push(section(`:x: ${b('Where it fails')}: ${esc(failing.at)}: ${esc(failing.what)}`));
  if (s.where.nodeCount > 0) {
    const lines = [`${b('Where')}: ${plural(s.where.nodeCount, 'at-risk node')}, ${plural(s.where.clientPods, 'client pod')} on them`];
    for (const n of s.where.nodes)
      lines.push(`• node \`${esc(n.node)}\`: p = ${formatP(n.probability)}, ${plural(n.clientPods, 'client pod')}`);
    if (s.where.nodeCount > s.where.nodes.length) lines.push(`• … and ${plural(s.where.nodeCount - s.where.nodes.length, 'more node')}`);
    lines.push(`${b('Affected workloads')} (${s.where.workloadCount})`);
    for (const w of s.where.workloads)
      lines.push(`• \`${esc(w.workload)}\`: ${plural(w.pods, 'pod')} on ${esc(w.nodes.join(', '))} (p up to ${formatP(w.maxProbability)})`);
    if (s.where.workloadCount > s.where.workloads.length)
      lines.push(`• … and ${plural(s.where.workloadCount - s.where.workloads.length, 'more workload')}`);
    out.push(section(lines.join('\n')));
  }
  if (s.fixes.length) {
    const line = (f: ServiceExplanation['fixes'][number], i: number): string =>
      `${i + 1}. ${b(esc(f.title))} → ${b(mrkdwnPct(f.predictedProbability))}${f.effective ? '' : ' _(no effect here)_'}`;
    if (detail === 'full') {
      out.push(section(`${b('Fixes')} (predicted figure after each)`));
      s.fixes.forEach((f, i) => out.push(section(`${line(f, i)}\n${esc(f.description)}\n_Trade-off: ${esc(f.tradeoff)}_`)));
    } else {
      out.push(section(`${b('Fixes')} (predicted figure after each)\n${s.fixes.map(line).join('\n')}`));
    }
  }
  if (s.findings.length) out.push(section(`${b('Findings')}\n${s.findings.map((f) => `• \`${f.code}\`: ${esc(f.message)}`).join('\n')}`));
  if (s.checkInstead.length && s.verdict !== 'loopback')
    out.push(section(`${b('Check instead')}\n${s.checkInstead.map((c) => `• ${esc(c)}`).join('\n')}`));
  if (detail === 'full') {
    const observed = s.observed.length
      ? s.observed.map((o) => `• ${esc(o)}`).join('\n')
      : '• nothing: no node dumps (the exporter reads them with `--node-dumps`)';
    const inferred = s.inferred.map((i) => `• ${esc(i)}`).join('\n');
    out.push(section(`${b('Observed')}\n${observed}${inferred ? `\n${b('Inferred')} from the Kubernetes objects\n${inferred}` : ''}`));
  }
}

function atRisk(m: MessageBuilder, a: Extract<Answer, { kind: 'atRisk' }>): void {
  const where = a.namespace ? ` in namespace ${esc(a.namespace)}` : '';
  for (const c of a.clusters) {
    const tag = a.showCluster ? `${b(esc(c.cluster))}: ` : '';
    const figures = `of ${plural(c.summary.services, 'Service')}; ${c.summary.clientPodsAtRisk} of ${c.summary.clientPods} client pods on at-risk nodes${c.summary.unreachable ? `; ${c.summary.unreachable} unreachable` : ''}${c.summary.unknown ? `; ${c.summary.unknown} unknown` : ''}`;
    const blocks: Block[] = [
      section(
        c.total
          ? `:red_circle: ${tag}${b(`${plural(c.total, 'Service')} at risk`)} of internal-LB loopback${where} (${figures})`
          : `:large_green_circle: ${tag}No Service${where} is at risk of internal-LB loopback (${figures})`,
      ),
    ];
    // The worst few with their figures; the dashboard, filtered, has the rest.
    if (c.services.length) {
      const name = (s: (typeof c.services)[number]): string =>
        s.dashboardUrl ? `<${s.dashboardUrl}|${esc(`${s.namespace}/${s.name}`)}>` : esc(`${s.namespace}/${s.name}`);
      const lines = byWorstClient(c.services).map((s, i) => `${i + 1}. ${b(name(s))} ${atRiskEntry(s, b, mrkdwnPct)}`);
      blocks.push(section(lines.join('\n')));
    }
    const more = c.total - c.services.length;
    if (more > 0)
      blocks.push(
        context(
          `… and ${plural(more, 'more Service')} at risk${c.dashboardUrl ? ': the dashboard lists them all, worst first' : ': `loopscope analyze` lists them all'}`,
        ),
      );
    if (c.dashboardUrl)
      blocks.push(
        dashboardButton(
          c.dashboardUrl,
          more > 0
            ? `All ${c.total} at-risk Services${a.showCluster ? ` (${c.cluster})` : ''}`
            : a.showCluster
              ? `Dashboard (${c.cluster})`
              : undefined,
        ),
      );
    m.add(blocks, c.cluster);
  }
}

function choiceButtons(options: Option[]): Block[] {
  const shown = options.slice(0, MAX_OPTIONS);
  const blocks: Block[] = [];
  for (let i = 0; i < shown.length; i += 5) {
    blocks.push({
      type: 'actions',
      elements: shown.slice(i, i + 5).map((o, j) => ({
        type: 'button' as const,
        text: { type: 'plain_text' as const, text: clipLine(o.label, LIMITS.buttonText) },
        action_id: `loopscope_choose_${i + j}`,
        value: JSON.stringify(o.question).slice(0, LIMITS.buttonValue),
      })),
    });
  }
  if (options.length > shown.length)
    blocks.push(
      context(`… and ${plural(options.length - shown.length, 'more match', 'more matches')}: name it more exactly (namespace/name).`),
    );
  return blocks;
}

function dashboardButton(url: string, label = 'Open the dashboard'): Block {
  return {
    type: 'actions',
    elements: [
      { type: 'button', text: { type: 'plain_text', text: clipLine(label, LIMITS.buttonText) }, action_id: DASHBOARD_ACTION, url },
    ],
  };
}

function clipLine(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
