/**
 * Question parsing: what a person typed (a mention, a DM, `/loopscope …`) → what they want to know.
 * Deliberately a small grammar of the questions people ask during an incident, not NLP: anything
 * else is "not understood" and gets the list of what the bot can do.
 */

import { parseWhatIfChangeSpec, WORKLOAD_KIND_ALIASES, type WhatIfChangeSpec } from '@loopscope/core';

/** A what-if change before its Service is resolved (the core's vocabulary and checks). */
export type WhatIfSpec = WhatIfChangeSpec;

export type Question =
  | { kind: 'help' }
  /** "why is payments timing out" (full) or "is payments at risk" (brief). */
  | { kind: 'explain'; target: string; cluster?: string; detail: 'full' | 'brief' }
  /** "why does checkout time out calling payments". */
  | { kind: 'pair'; client: string; service: string; cluster?: string }
  /** "what if payments used Cluster"; a node-wide change (kube-proxy) has no target. */
  | { kind: 'whatIf'; target?: string; change: WhatIfSpec; cluster?: string }
  /** "which services are at risk". */
  | { kind: 'atRisk'; cluster?: string; namespace?: string }
  | { kind: 'notUnderstood'; text: string; hint?: string };

/** Slack's markup to plain text: `<@U1>` mentions dropped, `<url|label>` → label, entities decoded. */
// Slack escapes "<" and ">" typed by people, so a markup run never holds another "<": the classes
// exclude it, and each pattern scans to the next "<" at most (linear on any text).
export function slackToPlain(text: string): string {
  return text
    .replace(/<@[A-Z0-9]+(?:\|[^<>]*)?>/g, ' ')
    .replace(/<#[A-Z0-9]+\|([^<>]*)>/g, '#$1')
    .replace(/<(?:mailto:)?([^<>|]+)\|([^<>]+)>/g, '$2')
    .replace(/<(?:https?:\/\/)?([^<>]+)>/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/[`*_~\u201c\u201d"]/g, '')
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/\s+/g, ' ')
    .trim();
}

/** Kind words → the lower-case kind the exporter's targets use (kubectl's short names, as core reads them). */
const WORKLOAD_WORDS: Record<string, string> = {
  ...Object.fromEntries(Object.entries(WORKLOAD_KIND_ALIASES).map(([word, kind]) => [word, kind.toLowerCase()])),
  pod: 'pod',
};

const TARGET_TOKEN = /^[A-Za-z0-9][\w.\-/:]*$|^\[[0-9a-fA-F:.]+\](?::\d+)?$/;

/**
 * A target as typed → the form the exporter resolves: `payments`, `prod/payments`,
 * `deployment/checkout`, `pod/x`, `10.0.3.15:8080`. Undefined when it is not one name.
 */
export function cleanTarget(text: string): string | undefined {
  let t = trimTrailing(text.trim(), '?!.,;')
    .replace(/'s$/i, '')
    .replace(/^(?:the|my|our|a|an)\s+/i, '')
    .replace(/^(?:internal\s+)?(?:lb|load ?balancer)(?:\s+ip)?\s+(?=[\d[])/i, '')
    .replace(/^(?:service|svc)\s+/i, '')
    .replace(/\s+(?:service|svc|app|api service)$/i, '')
    .replace(/\s+pods?$/i, '')
    .trim();
  const kindFirst = /^([a-z]+)\s+(\S+)$/i.exec(t);
  if (kindFirst && WORKLOAD_WORDS[kindFirst[1]!.toLowerCase()]) t = `${WORKLOAD_WORDS[kindFirst[1]!.toLowerCase()]}/${kindFirst[2]}`;
  const kindLast = /^(\S+)\s+([a-z]+)$/i.exec(t);
  if (kindLast && WORKLOAD_WORDS[kindLast[2]!.toLowerCase()]) t = `${WORKLOAD_WORDS[kindLast[2]!.toLowerCase()]}/${kindLast[1]}`;
  const inNamespace = /^(\S+)\s+in\s+(?:the\s+)?(?:namespace|ns)\s+(\S+)$/i.exec(t) ?? /^(\S+)\s+in\s+(\S+)\s+(?:namespace|ns)$/i.exec(t);
  if (inNamespace) t = `${inNamespace[2]}/${inNamespace[1]}`;
  if (!TARGET_TOKEN.test(t)) return undefined;
  // Kubernetes names are lower case; addresses are unaffected.
  return t.toLowerCase();
}

/** `text` without a trailing run of `chars` (as `/[…]+$/`, which backtracks over every run inside the text). */
function trimTrailing(text: string, chars: string): string {
  let end = text.length;
  while (end > 0 && chars.includes(text[end - 1]!)) end--;
  return text.slice(0, end);
}

function parseChange(text: string): WhatIfSpec | undefined {
  const t = text.toLowerCase();
  if (/kube-?proxy|tke[- ]fixed|fixed (?:build|kube)/.test(t)) {
    const v = /(v?\d+\.\d+[\w.+-]*|tke-fixed)/.exec(t);
    return { kind: 'kubeProxyVersion', version: v ? v[1]! : 'tke-fixed' };
  }
  if (/cluster[ -]?ip|dns|service name|svc name|in-cluster name|\.svc\b/.test(t)) return { kind: 'callViaClusterIP' };
  if (/prevent[- ]?loopback|the annotation|annotated/.test(t))
    return { kind: 'preventLoopback', value: !/\b(no|without|removed?|false|off|dropped?)\b/.test(t) };
  if (/anti-?affinity|clients?\b.*\b(moved?|off|elsewhere|away)|spread|other nodes/.test(t)) return { kind: 'moveClients' };
  if (/\bcluster\b/.test(t)) return { kind: 'trafficPolicy', value: 'Cluster' };
  if (/\blocal\b/.test(t)) return { kind: 'trafficPolicy', value: 'Local' };
  if (/\bvip\b/.test(t)) return { kind: 'ipMode', value: 'VIP' };
  if (/\bproxy\b/.test(t)) return { kind: 'ipMode', value: 'Proxy' };
  return undefined;
}

function parseWhatIf(body: string): Question | undefined {
  const b = body.trim();
  let m =
    /^(?:we\s+)?(?:upgraded|updated|moved|changed|switched|rolled out)\s+(?:the\s+)?kube-?proxy\b(.*)$/i.exec(b) ??
    /^kube-?proxy\s+(?:was|were|is|ran|runs|had|got|went to|moved to|upgraded to|updated to)\b(.*)$/i.exec(b);
  if (m) {
    const v = /(v?\d+\.\d+[\w.+-]*|tke-fixed)/i.exec(m[1] ?? '');
    return { kind: 'whatIf', change: { kind: 'kubeProxyVersion', version: v ? v[1]!.toLowerCase() : 'tke-fixed' } };
  }
  m = /^(?:we\s+|clients\s+|callers\s+)?(?:called|call|used|use|reached|hit)\s+(.+?)\s+(?:via|through|by|with|on)\s+(.+)$/i.exec(b);
  if (m && /cluster[ -]?ip|dns|service name/i.test(m[2]!)) {
    const target = cleanTarget(m[1]!);
    if (target) return { kind: 'whatIf', target, change: { kind: 'callViaClusterIP' } };
  }
  m =
    /^(?:we\s+)?(?:moved|move|spread)\s+(?:the\s+)?clients\s+(?:of|off|away from|for)\s+(.+)$/i.exec(b) ??
    /^(.+?)(?:'s)?\s+clients\s+(?:moved|were moved|were spread|moved away)\b.*$/i.exec(b);
  if (m) {
    const target = cleanTarget(m[1]!);
    if (target) return { kind: 'whatIf', target, change: { kind: 'moveClients' } };
  }
  m =
    /^(?:we\s+)?(?:set|change|changed|switch|switched|moved|move|put|turned)\s+(.+?)\s+(?:to|on|into)\s+(.+)$/i.exec(b) ??
    /^(.+?)\s+(?:used|uses|use|had|has|have|got|gets|were|was|is|ran|runs|went|switched to|moved to|changed to|set to|is set to|were set to|with|called|calls|kept|keeps|didn't use|did not use)\s+(.+)$/i.exec(
      b,
    );
  if (m) {
    const change = parseChange(m[2]!);
    const target = cleanTarget(m[1]!);
    if (change && target)
      return {
        kind: 'whatIf',
        target,
        change: /didn't use|did not use/i.test(b) && change.kind === 'preventLoopback' ? { ...change, value: false } : change,
      };
  }
  return undefined;
}

const RISK_WORDS =
  /\b(at risk|risky|risks?|loop(?:ing|s)?(?: back)?|loopback|timing out|time ?outs?|affected|failing|broken|in danger|exposed|unsafe|bad)\b/i;
const FILLER = /^(?:hey|hi|hello|ok|okay|so|please|pls|can you tell me|tell me|do you know|could you tell me|loopscope)[,:]?\s+/i;

/** Longer than any question this grammar reads; longer text is not parsed (see LOOPSCOPE_MAX_QUESTION_CHARS). */
export const MAX_QUESTION_CHARS = 1000;

/**
 * Parses one question. `clusters` are the configured cluster names (for "… in prod"). A question
 * over `maxChars` is not parsed at all: every pattern here then sees bounded text.
 */
export function parseQuestion(raw: string, clusters: readonly string[] = [], maxChars = MAX_QUESTION_CHARS): Question {
  if (raw.length > maxChars) {
    return {
      kind: 'notUnderstood',
      text: `${raw.slice(0, 60)}…`,
      hint: `That question is ${raw.length} characters long; I read questions of up to ${maxChars}. Ask it in a sentence, for example "why is payments timing out".`,
    };
  }
  let text = trimTrailing(slackToPlain(raw), '?!.').trim();
  for (let i = 0; i < 3; i++) text = text.replace(FILLER, '');
  text = text.replace(/\s+please$/i, '').trim();
  if (!text || /^(help|usage|commands|\?|what can you do|how does this work|how do i use (?:you|this))$/i.test(text))
    return { kind: 'help' };

  let cluster: string | undefined;
  const clusterNamed = (name: string): string | undefined => clusters.find((c) => c.toLowerCase() === name.toLowerCase());
  const suffix = /\s+(?:in|on|for|at)\s+(?:the\s+)?(?:cluster\s+)?([\w.-]+)(?:\s+cluster)?$/i.exec(text);
  if (suffix && clusterNamed(suffix[1]!)) {
    cluster = clusterNamed(suffix[1]!);
    text = text.slice(0, suffix.index).trim();
  }
  // "prod: why is payments timing out" / "/loopscope prod payments"
  const prefix = /^([\w.-]+):\s+(.+)$/.exec(text);
  if (!cluster && prefix && clusterNamed(prefix[1]!)) {
    cluster = clusterNamed(prefix[1]!);
    text = prefix[2]!;
  }
  const withCluster = <Q extends Question>(q: Q): Q => (cluster && q.kind !== 'help' && q.kind !== 'notUnderstood' ? { ...q, cluster } : q);

  let m = /^(?:what|which|list|show(?: me)?|any|are there any|is there anything|anything)\b(.*)$/i.exec(text);
  if (m && !/^what\s+(?:if|would|happens|about)\b/i.test(text) && (RISK_WORDS.test(m[1]!) || /^\s*(?:services?|svcs?)\s*$/i.test(m[1]!))) {
    const ns = /\b(?:in|of)\s+(?:the\s+)?(?:namespace|ns)\s+([\w.-]+)/i.exec(m[1]!) ?? /\bin\s+([\w.-]+)\s+(?:namespace|ns)\b/i.exec(m[1]!);
    return withCluster({ kind: 'atRisk', ...(ns ? { namespace: ns[1]!.toLowerCase() } : {}) });
  }
  if (/^(?:at risk|risks|top risks|status|summary|overview|report)$/i.test(text)) return withCluster({ kind: 'atRisk' });

  m = /^what\s+(?:if|would happen if|happens if|about if|if we)\s+(.+)$/i.exec(text);
  if (m) {
    const q = parseWhatIf(m[1]!);
    if (q) return withCluster(q);
    return {
      kind: 'notUnderstood',
      text,
      hint: 'I can try: "what if payments used Cluster" (externalTrafficPolicy), "… used VIP" / "… used Proxy" (ipMode), "… had prevent-loopback", "what if we called payments via its ClusterIP", "what if we moved the clients of payments", "what if kube-proxy were tke-fixed".',
    };
  }

  m =
    /^why\s+(?:does|do|is|are|did|would|will|can't|cannot|can not|might)\s+(.+?)\s+(?:keep\s+)?(?:time|times|timing|timed)[ -]?outs?\s+(?:when\s+|while\s+)?(?:calling|it calls|they call|talking to|connecting to|reaching|hitting|sending to|against|to|on|from)\s+(.+)$/i.exec(
      text,
    ) ??
    /^why\s+(?:does|do|is|are|did|can't|cannot|can not)\s+(.+?)\s+(?:fail(?:ing|s)?\s+(?:to\s+)?(?:call|calling|reach|reaching|connect to|connecting to)|not reach|reach|call)\s+(.+)$/i.exec(
      text,
    );
  if (m) {
    const client = cleanTarget(m[1]!);
    const service = cleanTarget(m[2]!);
    if (client && service) return withCluster({ kind: 'pair', client, service });
  }

  m =
    /^why\s+(?:is|are|does|do|did|would|might|will|the)?\s*(.+?)\s+(?:keep\s+|keeps\s+)?(?:timing out|time[ -]?out|times out|timed out|timeouts?|failing|fail|fails|slow|flaky|hanging|hangs?|dropping connections|losing connections|unreachable|erroring|broken|down)(?:\s+.*)?$/i.exec(
      text,
    ) ??
    /^(?:explain|diagnose|debug|investigate|why)\s+(.+)$/i.exec(text) ??
    /^what(?:'s| is)\s+wrong\s+with\s+(.+)$/i.exec(text) ??
    /^(.+?)\s+(?:is\s+|keeps\s+|are\s+)?(?:timing out|times out|timed out|time[ -]?out)$/i.exec(text);
  if (m) {
    const target = cleanTarget(m[1]!);
    if (target) return withCluster({ kind: 'explain', target, detail: 'full' });
  }
  m =
    /^(?:is|are|does|do|will|would)\s+(.+?)\s+(?:at risk|safe|ok|okay|fine|affected|looping(?: back)?|loop(?:ing)? ?back|vulnerable|exposed|in danger|risky|going to time out|time out|timing out|healthy)$/i.exec(
      text,
    ) ?? /^(?:how risky is|risk of|risk for|check|status of|status)\s+(.+)$/i.exec(text);
  if (m) {
    const target = cleanTarget(m[1]!);
    if (target) return withCluster({ kind: 'explain', target, detail: 'brief' });
  }
  // A bare name: "/loopscope payments".
  if (TARGET_TOKEN.test(text) && !/^(hi|hello|hey|thanks|thank|thx|ty|ping|yo|why|what|is|ok)$/i.test(text)) {
    const target = cleanTarget(text);
    if (target) return withCluster({ kind: 'explain', target, detail: 'full' });
  }
  return { kind: 'notUnderstood', text };
}

/** A question as a person would type it (the inverse of `parseQuestion`): for choices and hints. */
export function formatQuestion(q: Question): string {
  const inCluster = 'cluster' in q && q.cluster ? ` in ${q.cluster}` : '';
  switch (q.kind) {
    case 'help':
      return 'help';
    case 'explain':
      return q.detail === 'brief' ? `is ${q.target} at risk${inCluster}` : `why is ${q.target} timing out${inCluster}`;
    case 'pair':
      return `why does ${q.client} time out calling ${q.service}${inCluster}`;
    case 'atRisk':
      return `which services are at risk${q.namespace ? ` in namespace ${q.namespace}` : ''}${inCluster}`;
    case 'whatIf':
      return `what if ${describeChange(q.change, q.target)}${inCluster}`;
    case 'notUnderstood':
      return q.text;
  }
}

/** A change in words: "payments used externalTrafficPolicy Cluster". */
export function describeChange(change: WhatIfSpec, target?: string): string {
  const t = target ?? 'the Service';
  switch (change.kind) {
    case 'trafficPolicy':
      return `${t} used externalTrafficPolicy ${change.value}`;
    case 'ipMode':
      return `${t} used ipMode ${change.value}`;
    case 'preventLoopback':
      return change.value ? `${t} had the prevent-loopback annotation` : `${t} did not use the prevent-loopback annotation`;
    case 'kubeProxyVersion':
      return `kube-proxy were ${change.version}`;
    case 'moveClients':
      return `we moved the clients of ${t}`;
    case 'callViaClusterIP':
      return `we called ${t} via its ClusterIP`;
  }
}

/** Checks a question that came back from a button (its value is JSON we wrote, but it crossed Slack). */
export function questionFromJson(value: string): Question | undefined {
  let q: unknown;
  try {
    q = JSON.parse(value);
  } catch {
    return undefined;
  }
  const o = q as Record<string, unknown>;
  const str = (k: string): boolean => typeof o[k] === 'string' && (o[k] as string).length > 0 && (o[k] as string).length < 300;
  const optStr = (k: string): boolean => o[k] === undefined || str(k);
  if (!o || typeof o !== 'object' || !optStr('cluster')) return undefined;
  switch (o.kind) {
    case 'explain':
      return str('target') && (o.detail === 'full' || o.detail === 'brief') ? (o as Question) : undefined;
    case 'pair':
      return str('client') && str('service') ? (o as Question) : undefined;
    case 'whatIf': {
      const c = parseChangeJson(o.change);
      return c && optStr('target')
        ? {
            kind: 'whatIf',
            change: c,
            ...(o.target ? { target: o.target as string } : {}),
            ...(o.cluster ? { cluster: o.cluster as string } : {}),
          }
        : undefined;
    }
    case 'atRisk':
      return optStr('namespace') ? (o as Question) : undefined;
    case 'help':
      return { kind: 'help' };
    default:
      return undefined;
  }
}

function parseChangeJson(c: unknown): WhatIfSpec | undefined {
  try {
    return parseWhatIfChangeSpec(c);
  } catch {
    return undefined;
  }
}
