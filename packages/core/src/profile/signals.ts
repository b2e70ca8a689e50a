/**
 * The cloud signals of F9 (loopback-model.md §2): how each provider marks nodes, internal LBs and
 * direct-to-pod backends in the API objects.
 */
import { ANNOTATION, PROVIDER_ID_PREFIX, PROVIDERS, type Provider } from '../kube/vocabulary';

// The vocabulary itself lives in kube/vocabulary.ts; re-exported for the profile's callers.
export { ANNOTATION, EXCLUDE_FROM_LB_LABEL, PROVIDER_ID_PREFIX, PROVIDERS, SERVICE_ANNOTATION_KEYS, type Provider } from '../kube/vocabulary';

export function providerFromProviderID(providerID: string | undefined): Provider {
  if (!providerID) return 'unknown';
  for (const p of PROVIDERS) {
    if (providerID.startsWith(PROVIDER_ID_PREFIX[p as Exclude<Provider, 'unknown'>])) return p;
  }
  return 'unknown';
}

const TRUE = (v: string | undefined): boolean => v !== undefined && v.trim().toLowerCase() === 'true';

/** Which provider's internal-LB annotation the Service carries, if any. */
export function internalLbAnnotation(annotations: Record<string, string>): { provider: Provider; key: string; value: string } | undefined {
  const a = annotations;
  if (a[ANNOTATION.tkeInternalSubnet]) return { provider: 'tke', key: ANNOTATION.tkeInternalSubnet, value: a[ANNOTATION.tkeInternalSubnet]! };
  if (a[ANNOTATION.awsScheme]?.trim().toLowerCase() === 'internal') return { provider: 'aws', key: ANNOTATION.awsScheme, value: a[ANNOTATION.awsScheme]! };
  if (TRUE(a[ANNOTATION.awsInternalLegacy])) return { provider: 'aws', key: ANNOTATION.awsInternalLegacy, value: a[ANNOTATION.awsInternalLegacy]! };
  if (TRUE(a[ANNOTATION.azureInternal])) return { provider: 'azure', key: ANNOTATION.azureInternal, value: a[ANNOTATION.azureInternal]! };
  if (a[ANNOTATION.gkeLbType]?.trim().toLowerCase() === 'internal') return { provider: 'gcp', key: ANNOTATION.gkeLbType, value: a[ANNOTATION.gkeLbType]! };
  if (a[ANNOTATION.gcpLbTypeLegacy]?.trim().toLowerCase() === 'internal') return { provider: 'gcp', key: ANNOTATION.gcpLbTypeLegacy, value: a[ANNOTATION.gcpLbTypeLegacy]! };
  return undefined;
}

/** Direct-to-pod backends (F9): TKE direct access, AWS NLB IP targets. */
export function directToPodAnnotation(annotations: Record<string, string>): { key: string; value: string } | undefined {
  const a = annotations;
  if (TRUE(a[ANNOTATION.tkeDirectAccess])) return { key: ANNOTATION.tkeDirectAccess, value: a[ANNOTATION.tkeDirectAccess]! };
  if (a[ANNOTATION.awsNlbTargetType]?.trim().toLowerCase() === 'ip') return { key: ANNOTATION.awsNlbTargetType, value: a[ANNOTATION.awsNlbTargetType]! };
  if (a[ANNOTATION.awsLbType]?.trim().toLowerCase() === 'nlb-ip') return { key: ANNOTATION.awsLbType, value: a[ANNOTATION.awsLbType]! };
  return undefined;
}

export function hasPreventLoopback(annotations: Record<string, string>): boolean {
  return TRUE(annotations[ANNOTATION.tkePreventLoopback]);
}

/**
 * AWS NLB client IP preservation from the target-group attributes annotation
 * (`preserve_client_ip.enabled=true,…`); undefined when the annotation does not say.
 */
export function awsPreserveClientIp(annotations: Record<string, string>): boolean | undefined {
  const attrs = annotations[ANNOTATION.awsTargetGroupAttributes];
  if (!attrs) return undefined;
  const m = /preserve_client_ip\.enabled\s*=\s*(true|false)/i.exec(attrs);
  return m ? m[1]!.toLowerCase() === 'true' : undefined;
}
