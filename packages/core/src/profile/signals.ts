/**
 * The cloud signals of docs/model.md (docs/model.md): how each provider marks nodes, internal LBs and
 * direct-to-pod backends in the API objects.
 */
import { ANNOTATION, AWS_LB_CONTROLLER_CLASS, PROVIDER_ID_PREFIX, PROVIDERS, type Provider } from '../kube/vocabulary';

// The vocabulary itself lives in kube/vocabulary.ts; re-exported for the profile's callers.
export {
  ANNOTATION,
  EXCLUDE_FROM_LB_LABEL,
  PROVIDER_ID_PREFIX,
  PROVIDERS,
  SERVICE_ANNOTATION_KEYS,
  type Provider,
} from '../kube/vocabulary';

export function providerFromProviderID(providerID: string | undefined): Provider {
  if (!providerID) return 'unknown';
  for (const p of PROVIDERS) {
    if (providerID.startsWith(PROVIDER_ID_PREFIX[p as Exclude<Provider, 'unknown'>])) return p;
  }
  return 'unknown';
}

const TRUE = (v: string | undefined): boolean => v !== undefined && v.trim().toLowerCase() === 'true';

const lower = (v: string | undefined): string | undefined => v?.trim().toLowerCase();

/**
 * Which provider's internal-LB signal the Service carries, if any. AWS (docs/model.md): the legacy
 * `aws-load-balancer-internal` means internal for any value but "false" (older docs used
 * "0.0.0.0/0"); the AWS Load Balancer Controller makes internal NLBs unless the scheme is
 * `internet-facing`.
 */
export function internalLbAnnotation(
  annotations: Record<string, string>,
  loadBalancerClass?: string,
): { provider: Provider; key: string; value: string } | undefined {
  const a = annotations;
  if (a[ANNOTATION.tkeInternalSubnet])
    return { provider: 'tke', key: ANNOTATION.tkeInternalSubnet, value: a[ANNOTATION.tkeInternalSubnet]! };
  const scheme = lower(a[ANNOTATION.awsScheme]);
  if (scheme === 'internal') return { provider: 'aws', key: ANNOTATION.awsScheme, value: a[ANNOTATION.awsScheme]! };
  const legacy = lower(a[ANNOTATION.awsInternalLegacy]);
  if (legacy !== undefined && legacy !== '' && legacy !== 'false')
    return { provider: 'aws', key: ANNOTATION.awsInternalLegacy, value: a[ANNOTATION.awsInternalLegacy]! };
  const controller = awsLbControllerSignal(a, loadBalancerClass);
  if (controller && scheme !== 'internet-facing')
    return {
      provider: 'aws',
      key: controller.key,
      value: `${controller.value} (the AWS Load Balancer Controller's default scheme is internal)`,
    };
  if (TRUE(a[ANNOTATION.azureInternal])) return { provider: 'azure', key: ANNOTATION.azureInternal, value: a[ANNOTATION.azureInternal]! };
  if (a[ANNOTATION.gkeLbType]?.trim().toLowerCase() === 'internal')
    return { provider: 'gcp', key: ANNOTATION.gkeLbType, value: a[ANNOTATION.gkeLbType]! };
  if (a[ANNOTATION.gcpLbTypeLegacy]?.trim().toLowerCase() === 'internal')
    return { provider: 'gcp', key: ANNOTATION.gcpLbTypeLegacy, value: a[ANNOTATION.gcpLbTypeLegacy]! };
  return undefined;
}

/** Direct-to-pod backends (docs/model.md): TKE direct access, AWS NLB IP targets. */
export function directToPodAnnotation(annotations: Record<string, string>): { key: string; value: string } | undefined {
  const a = annotations;
  if (TRUE(a[ANNOTATION.tkeDirectAccess])) return { key: ANNOTATION.tkeDirectAccess, value: a[ANNOTATION.tkeDirectAccess]! };
  if (a[ANNOTATION.awsNlbTargetType]?.trim().toLowerCase() === 'ip')
    return { key: ANNOTATION.awsNlbTargetType, value: a[ANNOTATION.awsNlbTargetType]! };
  if (a[ANNOTATION.awsLbType]?.trim().toLowerCase() === 'nlb-ip') return { key: ANNOTATION.awsLbType, value: a[ANNOTATION.awsLbType]! };
  return undefined;
}

/** The Service is the AWS Load Balancer Controller's (`type: external` / `nlb-ip`, or its loadBalancerClass). */
export function awsLbControllerSignal(
  annotations: Record<string, string>,
  loadBalancerClass?: string,
): { key: string; value: string } | undefined {
  const type = lower(annotations[ANNOTATION.awsLbType]);
  if (type === 'external' || type === 'nlb-ip') return { key: ANNOTATION.awsLbType, value: annotations[ANNOTATION.awsLbType]! };
  if (loadBalancerClass === AWS_LB_CONTROLLER_CLASS) return { key: 'spec.loadBalancerClass', value: loadBalancerClass };
  return undefined;
}

/**
 * The AWS load balancer a Service gets (docs/model.md): the AWS Load Balancer Controller's NLB, the in-tree
 * NLB (`aws-load-balancer-type: nlb`, instance targets), or — with no type and no class — a Classic
 * ELB, a TCP proxy (the backend sees the ELB's address).
 */
export function awsLoadBalancerKind(
  annotations: Record<string, string>,
  loadBalancerClass?: string,
): { kind: 'controller-nlb' | 'in-tree-nlb' | 'classic-elb' | 'other-class'; source: string } {
  const controller = awsLbControllerSignal(annotations, loadBalancerClass);
  if (controller) return { kind: 'controller-nlb', source: `${controller.key}: ${controller.value}` };
  // Another class belongs to an implementation the AWS controllers leave alone (KEP-1959).
  if (loadBalancerClass) return { kind: 'other-class', source: `spec.loadBalancerClass: ${loadBalancerClass}` };
  if (lower(annotations[ANNOTATION.awsLbType]) === 'nlb') return { kind: 'in-tree-nlb', source: `${ANNOTATION.awsLbType}: nlb` };
  return { kind: 'classic-elb', source: `no ${ANNOTATION.awsLbType} annotation and no spec.loadBalancerClass` };
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
