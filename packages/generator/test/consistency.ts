/**
 * Cross-object checks for generated clusters (and the demo): what a real API server and its
 * controllers guarantee, so that the loopback model is never tested on impossible input.
 * Returns human-readable problems; an empty list means consistent.
 */
import type {
  GeneratedDaemonSet,
  GeneratedEndpointSlice,
  GeneratedJob,
  GeneratedKubeObject,
  GeneratedNode,
  GeneratedPod,
  GeneratedReplicaSet,
  GeneratedService,
} from '../src';

export interface ClusterObjects {
  nodes: GeneratedNode[];
  pods: GeneratedPod[];
  services: GeneratedService[];
  endpointSlices: GeneratedEndpointSlice[];
  replicaSets: GeneratedReplicaSet[];
  jobs: GeneratedJob[];
  daemonSets: GeneratedDaemonSet[];
}

export function splitList(items: GeneratedKubeObject[]): ClusterObjects {
  const of = <T>(kind: string): T[] => items.filter((o) => o.kind === kind) as unknown as T[];
  return {
    nodes: of('Node'),
    pods: of('Pod'),
    services: of('Service'),
    endpointSlices: of('EndpointSlice'),
    replicaSets: of('ReplicaSet'),
    jobs: of('Job'),
    daemonSets: of('DaemonSet'),
  };
}

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, p) => n * 256 + Number(p), 0);
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = ipToInt(base!);
  const v = ipToInt(ip);
  return v >= start && v < start + size;
}

export function isReady(pod: GeneratedPod): boolean {
  return pod.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

export function nodeIP(node: GeneratedNode): string {
  return node.status.addresses.find((a) => a.type === 'InternalIP')!.address;
}

const key = (o: GeneratedKubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export function checkConsistency(c: ClusterObjects, now: string): string[] {
  const problems: string[] = [];
  const nodes = new Map(c.nodes.map((n) => [n.metadata.name, n]));
  const podsByUid = new Map(c.pods.map((p) => [p.metadata.uid, p]));
  const uids = new Set<string>();
  for (const o of [...c.nodes, ...c.pods, ...c.services, ...c.endpointSlices, ...c.replicaSets, ...c.jobs, ...c.daemonSets]) {
    if (uids.has(o.metadata.uid)) problems.push(`${o.kind} ${key(o)}: duplicate uid ${o.metadata.uid}`);
    uids.add(o.metadata.uid);
    if (o.metadata.creationTimestamp > now) problems.push(`${o.kind} ${key(o)}: created in the future (${o.metadata.creationTimestamp})`);
  }
  const names = new Set<string>();
  const podIPs = new Map<string, string>();
  for (const p of c.pods) {
    const id = key(p);
    if (names.has(id)) problems.push(`Pod ${id}: duplicate name`);
    names.add(id);
    if (p.status.phase === 'Pending') {
      if (p.spec.nodeName !== undefined) problems.push(`Pod ${id}: Pending but scheduled`);
      if (p.status.podIP !== undefined) problems.push(`Pod ${id}: Pending with a pod IP`);
      continue;
    }
    const node = p.spec.nodeName === undefined ? undefined : nodes.get(p.spec.nodeName);
    if (!node) {
      problems.push(`Pod ${id}: nodeName ${p.spec.nodeName} is not a node`);
      continue;
    }
    if (p.metadata.creationTimestamp < node.metadata.creationTimestamp) problems.push(`Pod ${id}: created before its node`);
    if (p.status.hostIP !== nodeIP(node)) problems.push(`Pod ${id}: hostIP ${p.status.hostIP} is not its node's ${nodeIP(node)}`);
    const ip = p.status.podIP;
    if (!ip) {
      problems.push(`Pod ${id}: ${p.status.phase} without a pod IP`);
      continue;
    }
    if (p.status.podIPs?.[0]?.ip !== ip) problems.push(`Pod ${id}: podIPs disagrees with podIP`);
    if (p.spec.hostNetwork) {
      if (ip !== nodeIP(node)) problems.push(`Pod ${id}: hostNetwork pod IP ${ip} is not the node IP`);
    } else {
      const other = podIPs.get(ip);
      if (other) problems.push(`Pod ${id}: pod IP ${ip} also used by ${other}`);
      podIPs.set(ip, id);
      if (node.spec.podCIDR && !inCidr(ip, node.spec.podCIDR))
        problems.push(`Pod ${id}: pod IP ${ip} outside its node's podCIDR ${node.spec.podCIDR}`);
    }
    const readyCond = isReady(p);
    const allContainersReady = (p.status.containerStatuses ?? []).every((s) => s.ready);
    if (p.status.phase === 'Running' && readyCond !== allContainersReady)
      problems.push(`Pod ${id}: Ready condition disagrees with containerStatuses`);
    if ((p.status.containerStatuses ?? []).length !== p.spec.containers.length)
      problems.push(`Pod ${id}: containerStatuses do not match containers`);
  }

  // Owner chains.
  const rsByName = new Map(c.replicaSets.map((r) => [key(r), r]));
  const jobsByName = new Map(c.jobs.map((j) => [key(j), j]));
  const dsByName = new Map(c.daemonSets.map((d) => [key(d), d]));
  for (const p of c.pods) {
    const owner = p.metadata.ownerReferences?.[0];
    if (!owner) continue;
    const ref = `${p.metadata.namespace}/${owner.name}`;
    const target =
      owner.kind === 'ReplicaSet'
        ? rsByName.get(ref)
        : owner.kind === 'Job'
          ? jobsByName.get(ref)
          : owner.kind === 'DaemonSet'
            ? dsByName.get(ref)
            : owner.kind === 'Node'
              ? nodes.get(owner.name)
              : undefined;
    if (owner.kind === 'StatefulSet') continue; // StatefulSet objects are not part of the snapshot
    if (!target) problems.push(`Pod ${key(p)}: owner ${owner.kind} ${owner.name} not found`);
    else if (target.metadata.uid !== owner.uid) problems.push(`Pod ${key(p)}: owner ${owner.kind} ${owner.name} uid mismatch`);
    if (owner.kind === 'ReplicaSet' && target) {
      const up = target.metadata.ownerReferences?.[0];
      if (up?.kind !== 'Deployment') problems.push(`ReplicaSet ${ref}: no Deployment owner`);
      const rs = target as GeneratedReplicaSet;
      for (const [k, v] of Object.entries(rs.spec.selector.matchLabels)) {
        if (p.metadata.labels?.[k] !== v) problems.push(`Pod ${key(p)}: does not match its ReplicaSet's selector ${k}=${v}`);
      }
    }
    if (owner.kind === 'Job' && target && target.metadata.ownerReferences?.[0]?.kind !== 'CronJob')
      problems.push(`Job ${ref}: no CronJob owner`);
    if (owner.kind === 'DaemonSet' && p.spec.nodeName === undefined) problems.push(`Pod ${key(p)}: DaemonSet pod without a node`);
  }

  // Services and their EndpointSlices.
  const slicesBySvc = new Map<string, GeneratedEndpointSlice[]>();
  for (const s of c.endpointSlices) {
    const svc = s.metadata.labels?.['kubernetes.io/service-name'];
    if (!svc) {
      problems.push(`EndpointSlice ${key(s)}: no kubernetes.io/service-name label`);
      continue;
    }
    const k = `${s.metadata.namespace}/${svc}`;
    slicesBySvc.set(k, [...(slicesBySvc.get(k) ?? []), s]);
    for (const e of s.endpoints) {
      if (!e.targetRef) continue;
      const pod = podsByUid.get(e.targetRef.uid);
      if (!pod) {
        problems.push(`EndpointSlice ${key(s)}: endpoint ${e.addresses[0]} targets a pod that does not exist (${e.targetRef.name})`);
        continue;
      }
      if (pod.metadata.name !== e.targetRef.name || pod.metadata.namespace !== e.targetRef.namespace)
        problems.push(`EndpointSlice ${key(s)}: targetRef name mismatch`);
      if (pod.status.podIP !== e.addresses[0])
        problems.push(`EndpointSlice ${key(s)}: address ${e.addresses[0]} is not pod ${pod.metadata.name}'s IP ${pod.status.podIP}`);
      if (pod.spec.nodeName !== e.nodeName)
        problems.push(`EndpointSlice ${key(s)}: nodeName ${e.nodeName} is not pod ${pod.metadata.name}'s node ${pod.spec.nodeName}`);
      if (pod.status.phase !== 'Running')
        problems.push(`EndpointSlice ${key(s)}: endpoint pod ${pod.metadata.name} is ${pod.status.phase}`);
      if (isReady(pod) !== e.conditions.ready)
        problems.push(`EndpointSlice ${key(s)}: ready=${e.conditions.ready} but pod ${pod.metadata.name} Ready=${isReady(pod)}`);
      const node = e.nodeName ? nodes.get(e.nodeName) : undefined;
      if (node && e.zone !== undefined && node.metadata.labels?.['topology.kubernetes.io/zone'] !== e.zone)
        problems.push(`EndpointSlice ${key(s)}: zone disagrees with node`);
    }
  }
  for (const svc of c.services) {
    const k = key(svc);
    const slices = slicesBySvc.get(k) ?? [];
    if (slices.length === 0) problems.push(`Service ${k}: no EndpointSlice`);
    const selector = svc.spec.selector;
    if (!selector) continue;
    const selected = c.pods.filter(
      (p) =>
        p.metadata.namespace === svc.metadata.namespace &&
        p.status.phase === 'Running' &&
        p.status.podIP &&
        Object.entries(selector).every(([kk, v]) => p.metadata.labels?.[kk] === v),
    );
    const inSlices = new Set(slices.flatMap((s) => s.endpoints.map((e) => e.targetRef?.uid)));
    for (const p of selected)
      if (!inSlices.has(p.metadata.uid)) problems.push(`Service ${k}: selected pod ${p.metadata.name} missing from its EndpointSlices`);
    if (inSlices.size !== selected.length) problems.push(`Service ${k}: ${inSlices.size} endpoints for ${selected.length} selected pods`);
    for (const s of slices) {
      for (const sp of s.ports) {
        if (!svc.spec.ports.some((p) => p.name === sp.name && (p.targetPort === sp.port || p.port === sp.port)))
          problems.push(`EndpointSlice ${key(s)}: port ${sp.name}/${sp.port} not in the Service`);
      }
    }
    if (svc.spec.type === 'LoadBalancer') {
      for (const p of svc.spec.ports) if (p.nodePort === undefined) problems.push(`Service ${k}: LoadBalancer port without nodePort`);
      if (svc.spec.externalTrafficPolicy === 'Local' && svc.spec.healthCheckNodePort === undefined)
        problems.push(`Service ${k}: Local without healthCheckNodePort`);
    }
  }
  const nodePorts = new Map<number, string>();
  for (const svc of c.services) {
    const ports = [...svc.spec.ports.map((p) => p.nodePort), svc.spec.healthCheckNodePort].filter((p): p is number => p !== undefined);
    for (const port of ports) {
      const other = nodePorts.get(port);
      if (other) problems.push(`Service ${key(svc)}: nodePort ${port} also used by ${other}`);
      nodePorts.set(port, key(svc));
    }
  }
  const clusterIPs = new Map<string, string>();
  for (const svc of c.services) {
    if (svc.spec.clusterIP === 'None') continue;
    const other = clusterIPs.get(svc.spec.clusterIP);
    if (other) problems.push(`Service ${key(svc)}: clusterIP ${svc.spec.clusterIP} also used by ${other}`);
    clusterIPs.set(svc.spec.clusterIP, key(svc));
  }
  return problems;
}
