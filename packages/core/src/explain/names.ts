import { editDistanceWithin } from './similarity';

/**
 * How people name things in a question, shared by explain's target resolution and the Slack bot:
 * the workload kind words kubectl accepts (and their short names), and when a name someone typed is
 * close enough to a real one to take without asking.
 */

/** Kind words (lower case, kubectl's short names included) → the workload Kind. */
export const WORKLOAD_KIND_ALIASES: Readonly<Record<string, string>> = {
  deployment: 'Deployment',
  deploy: 'Deployment',
  statefulset: 'StatefulSet',
  sts: 'StatefulSet',
  daemonset: 'DaemonSet',
  ds: 'DaemonSet',
  job: 'Job',
  cronjob: 'CronJob',
  cj: 'CronJob',
  replicaset: 'ReplicaSet',
  rs: 'ReplicaSet',
};

/**
 * Close enough to take without asking: the same name with a suffix ("payments" for
 * "payments-api"), the only Service of a namespace, or a small typo (1 edit, 2 from 8 characters).
 * Bounded: the edit distance is computed only up to 2.
 */
export function isCloseMatch(query: string, candidate: string): boolean {
  const q = query.toLowerCase();
  const c = candidate.toLowerCase();
  const qParts = q.split('/');
  const cParts = c.split('/');
  const qName = qParts[qParts.length - 1]!;
  const cName = cParts[cParts.length - 1]!;
  const qNs = qParts.length > 1 ? qParts[0] : undefined;
  const cNs = cParts.length > 1 ? cParts[0] : undefined;
  if (qNs !== undefined && cNs !== undefined && qNs !== cNs && editDistanceWithin(qNs, cNs, 1) > 1) return false;
  if (qNs === undefined && cNs === q && cParts.length === 2) return true; // "payments": the one Service in namespace payments
  if (cName === qName || cName.startsWith(`${qName}-`) || cName.endsWith(`-${qName}`)) return true;
  if (qName.length < 4) return false;
  const allowed = qName.length >= 8 ? 2 : 1;
  const typo = Math.min(editDistanceWithin(qName, cName, allowed), editDistanceWithin(qName, cName.split('-')[0]!, allowed));
  return typo <= allowed;
}
