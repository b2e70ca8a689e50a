import { CHECK_INSTEAD, formatProbability, type Explanation, type WhatIfChange } from '@loopscope/core';
import type { Answer, ExplanationAnswer, Option } from './answer';
import { ClusterUnavailable, type ClusterApi } from './clusters/clusterApi';
import { resolveTarget, type Resolution, type TargetRef, type Unavailable } from './clusters/resolution';
import { dashboardLink } from './dashboard';
import { describeChange, type Question, type WhatIfSpec } from './question';

/** Services shown by name in "which services are at risk"; the dashboard lists the rest. */
export const AT_RISK_SHOWN = 5;

/**
 * Answers a parsed question from the clusters: resolves targets across them, asks the exporters,
 * and turns what they say (or that they did not answer) into an `Answer`.
 */
export class Answerer {
  constructor(
    private readonly clusters: readonly ClusterApi[],
    private readonly options: { dashboardUrl?: string } = {},
  ) {}

  private get showCluster(): boolean {
    return this.clusters.length > 1;
  }

  async answer(q: Question): Promise<Answer> {
    const common = { unavailable: [] as Unavailable[], showCluster: this.showCluster };
    if ('cluster' in q && q.cluster && !this.clusters.some((c) => c.name === q.cluster)) {
      return {
        kind: 'notice',
        tone: 'warning',
        text: `I don't know a cluster called "${q.cluster}". I can ask: ${this.clusters.map((c) => c.name).join(', ')}.`,
        ...common,
      };
    }
    switch (q.kind) {
      case 'help':
        return { kind: 'help', clusters: this.clusters.map((c) => c.name), ...common };
      case 'notUnderstood':
        return { kind: 'help', notUnderstood: q.text, hint: q.hint, clusters: this.clusters.map((c) => c.name), ...common };
      case 'explain':
        return this.explain(q);
      case 'pair':
        return this.pair(q);
      case 'atRisk':
        return this.atRisk(q);
      case 'whatIf':
        return this.whatIf(q);
    }
  }

  private async explain(q: Extract<Question, { kind: 'explain' }>): Promise<Answer> {
    const r = await resolveTarget(this.clusters, q.target, { cluster: q.cluster, prefer: 'service' });
    if (r.kind !== 'found') return this.unresolved(r, (ref) => withCluster({ ...q, target: ref.target }, ref.cluster));
    return this.explanationAnswer(r.cluster, r.target, r.explanation, q.detail, r.unavailable, r.assumed);
  }

  private explanationAnswer(
    cluster: string,
    target: string,
    explanation: Explanation,
    detail: 'full' | 'brief',
    unavailable: Unavailable[],
    assumed?: string,
  ): ExplanationAnswer {
    const first = explanation.services[0];
    const isService = explanation.target.kind === 'service' || explanation.target.kind === 'ingress';
    return {
      kind: 'explanation',
      cluster,
      explanation,
      detail,
      assumed,
      unavailable,
      showCluster: this.showCluster,
      dashboardUrl: dashboardLink(this.options.dashboardUrl, {
        cluster,
        namespace: isService ? first?.namespace : target.split('/')[0],
        service: isService ? first?.name : undefined,
      }),
      cliCommand: `loopscope explain ${target}`,
    };
  }

  /** "why does checkout time out calling payments": the client's own figure towards that Service. */
  private async pair(q: Extract<Question, { kind: 'pair' }>): Promise<Answer> {
    const [service, client] = await Promise.all([
      resolveTarget(this.clusters, q.service, { cluster: q.cluster, prefer: 'service' }),
      resolveTarget(this.clusters, q.client, { cluster: q.cluster, prefer: 'client' }),
    ]);
    if (service.kind !== 'found')
      return this.unresolved(service, (ref) => withCluster({ ...q, service: ref.target }, ref.cluster), 'the Service');
    const sameCluster = client.kind === 'found' ? client.cluster === service.cluster : true;
    if (client.kind !== 'found' || !sameCluster) {
      // Look the caller up again in the Service's cluster only: that is where the connection goes.
      const again = await resolveTarget(this.clusters, q.client, { cluster: service.cluster, prefer: 'client' });
      if (again.kind !== 'found')
        return this.unresolved(again, (ref) => withCluster({ ...q, client: ref.target }, ref.cluster), 'the caller');
      return this.pairAnswer(q, service, again);
    }
    return this.pairAnswer(q, service, client);
  }

  private pairAnswer(
    q: Extract<Question, { kind: 'pair' }>,
    service: Extract<Resolution, { kind: 'found' }>,
    client: Extract<Resolution, { kind: 'found' }>,
  ): Answer {
    const unavailable = mergeUnavailable(service.unavailable, client.unavailable);
    const svc = service.explanation.services[0];
    if (!svc || (service.explanation.target.kind !== 'service' && service.explanation.target.kind !== 'ingress')) {
      return {
        kind: 'notice',
        tone: 'warning',
        text: `"${q.service}" is a ${service.explanation.target.kind} (${service.explanation.target.label}), not a Service: ask "why does ${q.client} time out calling SERVICE".`,
        unavailable,
        showCluster: this.showCluster,
      };
    }
    const svcRef = `${svc.namespace}/${svc.name}`;
    const clientLabel = client.explanation.target.label;
    if (client.explanation.target.kind === 'service' || client.explanation.target.kind === 'ingress') {
      return {
        kind: 'notice',
        tone: 'warning',
        text: `"${q.client}" is the Service ${clientLabel}; name the workload that makes the calls (for example deployment/${q.client.split('/').pop()}) or one of its pods.`,
        unavailable,
        showCluster: this.showCluster,
      };
    }
    const assumed = [service.assumed, client.assumed].filter(Boolean).join('; ') || undefined;
    const exposure = client.explanation.services.find((s) => s.namespace === svc.namespace && s.name === svc.name);
    if (exposure) {
      const explanation: Explanation = {
        target: client.explanation.target,
        verdict: exposure.verdict,
        probability: exposure.probability,
        headline: exposure.headline,
        services: [exposure],
      };
      return this.explanationAnswer(service.cluster, client.target, explanation, 'full', unavailable, assumed);
    }
    const why =
      svc.verdict === 'loopback'
        ? `none of its pods sits on a node that ${svcRef}'s LB can send the connection back to (${svcRef} loops for ${formatProbability(svc.probability)} of connections overall, from clients on ${svc.where.nodeCount} other node(s))`
        : `${svc.headline}`;
    const explanation: Explanation = {
      target: { kind: client.explanation.target.kind, label: `${clientLabel} → ${svcRef}` },
      verdict: 'safe',
      probability: 0,
      headline: `Internal-LB loopback is not why ${clientLabel} times out calling ${svcRef}: ${why.replace(/\.$/, '')}.`,
      services: [],
    };
    return {
      ...this.explanationAnswer(service.cluster, client.target, explanation, 'brief', unavailable, assumed),
      checkInstead: [...CHECK_INSTEAD],
    };
  }

  private async atRisk(q: Extract<Question, { kind: 'atRisk' }>): Promise<Answer> {
    const scope = q.cluster ? this.clusters.filter((c) => c.name === q.cluster) : this.clusters;
    const results = await Promise.all(
      scope.map(async (c) => {
        try {
          return { cluster: c, list: await c.atRisk({ namespace: q.namespace, limit: AT_RISK_SHOWN }) };
        } catch (err) {
          return { cluster: c, unavailable: toUnavailable(c, err) };
        }
      }),
    );
    const unavailable = results.flatMap((r) => (r.unavailable ? [r.unavailable] : []));
    const answered = results.filter((r) => r.list);
    if (answered.length === 0) return allUnavailable(unavailable, this.showCluster);
    return {
      kind: 'atRisk',
      namespace: q.namespace,
      clusters: answered.map((r) => ({
        cluster: r.cluster.name,
        summary: r.list!.summary,
        total: r.list!.total,
        services: r.list!.services.map((s) => ({
          ...s,
          dashboardUrl: dashboardLink(this.options.dashboardUrl, { cluster: r.cluster.name, namespace: s.namespace, service: s.name }),
        })),
        dashboardUrl: dashboardLink(this.options.dashboardUrl, { cluster: r.cluster.name, namespace: q.namespace }),
      })),
      unavailable,
      showCluster: this.showCluster,
    };
  }

  private async whatIf(q: Extract<Question, { kind: 'whatIf' }>): Promise<Answer> {
    if (!q.target) {
      // A node-wide change (kube-proxy): one cluster at a time.
      const scope = q.cluster ? this.clusters.filter((c) => c.name === q.cluster) : this.clusters;
      if (scope.length > 1) {
        return {
          kind: 'choice',
          prompt: `Which cluster should I try "${describeChange(q.change)}" on?`,
          options: scope.map((c) => ({ label: c.name, question: { ...q, cluster: c.name } })),
          unavailable: [],
          showCluster: true,
        };
      }
      return this.runWhatIf(scope[0]!, toChanges(q.change), describeChange(q.change), [], undefined);
    }
    const r = await resolveTarget(this.clusters, q.target, { cluster: q.cluster, prefer: 'service' });
    if (r.kind !== 'found') return this.unresolved(r, (ref) => withCluster({ ...q, target: ref.target }, ref.cluster));
    const svc = r.explanation.services[0];
    if ((r.explanation.target.kind !== 'service' && r.explanation.target.kind !== 'ingress') || !svc) {
      return {
        kind: 'notice',
        tone: 'warning',
        text: `What-if changes apply to a Service, and ${r.explanation.target.label} is a ${r.explanation.target.kind}. Ask about the Service it calls, for example "what if ${r.explanation.services[0]?.name ?? 'SERVICE'} used Cluster".`,
        unavailable: r.unavailable,
        showCluster: this.showCluster,
      };
    }
    const ref = `${svc.namespace}/${svc.name}`;
    const cluster = this.clusters.find((c) => c.name === r.cluster)!;
    return this.runWhatIf(cluster, toChanges(q.change, ref), describeChange(q.change, ref), r.unavailable, r.assumed, {
      namespace: svc.namespace,
      service: svc.name,
    });
  }

  private async runWhatIf(
    cluster: ClusterApi,
    changes: WhatIfChange[],
    change: string,
    unavailable: Unavailable[],
    assumed: string | undefined,
    where: { namespace?: string; service?: string } = {},
  ): Promise<Answer> {
    let outcome;
    try {
      outcome = await cluster.whatIf(changes);
    } catch (err) {
      return allUnavailable([...unavailable, toUnavailable(cluster, err)], this.showCluster);
    }
    if (!outcome.ok)
      return {
        kind: 'notice',
        tone: 'warning',
        text: `Cluster ${cluster.name} could not try that: ${outcome.message}`,
        unavailable,
        showCluster: this.showCluster,
      };
    return {
      kind: 'whatIf',
      cluster: cluster.name,
      change,
      services: outcome.result.services,
      assumed,
      unavailable,
      showCluster: this.showCluster,
      dashboardUrl: dashboardLink(this.options.dashboardUrl, { cluster: cluster.name, ...where }),
    };
  }

  /** A choice, "did you mean", or "no cluster answered" — for whichever target was not found. */
  private unresolved(r: Exclude<Resolution, { kind: 'found' }>, ask: (ref: TargetRef) => Question, role?: string): Answer {
    const label = (ref: TargetRef): string => (this.showCluster ? `${ref.cluster}: ${ref.target}` : ref.target);
    // With one cluster there is nothing to pin: the question stays as a person would retype it.
    const option = (ref: TargetRef): Option => ({ label: label(ref), question: ask(this.showCluster ? ref : { ...ref, cluster: '' }) });
    switch (r.kind) {
      case 'unavailable':
        return allUnavailable(r.unavailable, this.showCluster);
      case 'choice':
        return {
          kind: 'choice',
          prompt: role ? `For ${role}: ${r.prompt}` : r.prompt,
          options: r.options.map(option),
          unavailable: r.unavailable,
          showCluster: this.showCluster,
        };
      case 'unknown':
        return {
          kind: 'unknownTarget',
          target: r.target,
          message: role ? `${role}: ${r.message}` : r.message,
          clustersAsked: r.clustersAsked,
          suggestions: r.suggestions.map(option),
          unavailable: r.unavailable,
          showCluster: this.showCluster,
        };
    }
  }
}

function withCluster<Q extends Question & { cluster?: string }>(q: Q, cluster: string): Q {
  const { cluster: _drop, ...rest } = q;
  return (cluster ? { ...rest, cluster } : rest) as Q;
}

function toChanges(change: WhatIfSpec, service?: string): WhatIfChange[] {
  return [change.kind === 'kubeProxyVersion' ? change : ({ ...change, service: service ?? '' } as WhatIfChange)];
}

function toUnavailable(cluster: ClusterApi, err: unknown): Unavailable {
  return {
    cluster: cluster.name,
    location: cluster.location,
    reason: err instanceof ClusterUnavailable ? err.reason : `failed: ${(err as Error).message}`,
  };
}

function allUnavailable(unavailable: Unavailable[], showCluster: boolean): Answer {
  return {
    kind: 'notice',
    tone: 'error',
    text:
      unavailable.length === 1
        ? `Cluster ${unavailable[0]!.cluster} did not answer, so I cannot tell right now.`
        : `None of the clusters answered (${unavailable.map((u) => u.cluster).join(', ')}), so I cannot tell right now.`,
    unavailable,
    showCluster,
  };
}

function mergeUnavailable(a: Unavailable[], b: Unavailable[]): Unavailable[] {
  return [...a, ...b.filter((u) => !a.some((x) => x.cluster === u.cluster))];
}
