/**
 * The few fields loopscope reads from Kubernetes objects, typed as `kubectl get -o json` prints them.
 * Everything is optional: input is untrusted, and normalization checks each field it needs.
 */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{ apiVersion?: string; kind?: string; name?: string; uid?: string; controller?: boolean }>;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

export interface KubeList {
  apiVersion: string;
  kind: 'List' | string;
  items: KubeObject[];
}

export interface Container {
  name?: string;
  image?: string;
  command?: string[];
  args?: string[];
}

export interface PodSpecLike {
  nodeName?: string;
  hostNetwork?: boolean;
  containers?: Container[];
}
