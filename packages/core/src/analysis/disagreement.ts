import type { DatapathDecision } from './datapath';
import type { Reason } from './reasons';

/**
 * The evidence and the inference compared: when a node's dumps show another outcome (or source)
 * than the profile predicts, the evidence is used and the difference becomes a finding of its own,
 * pointing at the profile's sources.
 */
export function withDisagreement(observed: DatapathDecision, inferred: DatapathDecision, nodeName: string): DatapathDecision {
  const differs =
    inferred.outcome !== observed.outcome ||
    (observed.outcome === 'leaves' && inferred.outcome === 'leaves' && inferred.source !== observed.source);
  if (!differs) return observed;
  const say = (d: DatapathDecision): string => (d.outcome === 'leaves' ? `leaves with the ${d.source} IP` : d.outcome);
  const finding: Reason = {
    code: 'EVIDENCE_DISAGREES',
    message: `the profile predicted "${say(inferred)}" on ${nodeName} but its dumps show "${say(observed)}"; the evidence is used — check the detected profile (${inferred.reasons.map((r) => r.source).join('; ')})`,
    source: `${nodeName}'s dumps`,
    basis: 'observed',
    severity: 'warning',
  };
  return { ...observed, reasons: [...observed.reasons, finding] };
}
