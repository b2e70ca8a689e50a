/** Panel options, set in the panel editor (see module.ts). */
export type ClientGrouping = 'node' | 'workload';
export type Orientation = 'horizontal' | 'vertical';

export interface LinksOptions {
  /** Links below this probability are hidden (or drawn as safe when showSafe is on). */
  minProbability: number;
  groupClientsBy: ClientGrouping;
  /** Draw links under the threshold and Services that cannot loop, in a neutral colour. */
  showSafe: boolean;
  /** Most links drawn; the rest are counted as "+K more". */
  maxLinks: number;
  /** horizontal: list beside the graph; vertical: list below it. */
  orientation: Orientation;
  /** Base URL of loopscope-exporter, for the explain data link. Empty: no link. */
  exporterUrl: string;
}

export const defaultOptions: LinksOptions = {
  minProbability: 0,
  groupClientsBy: 'workload',
  showSafe: false,
  maxLinks: 50,
  orientation: 'horizontal',
  exporterUrl: '',
};

/** One `loopscope_link_loopback_ratio` series: a client workload on a node → a Service's LB ingress. */
export interface LoopLink {
  node: string;
  clientNamespace: string;
  clientKind: string;
  clientWorkload: string;
  namespace: string;
  service: string;
  ingressIp: string;
  port: string;
  probability: number;
  /** Client pods, when the frame carries a `pods` label or field. */
  pods?: number;
}

/** A Service from `loopscope_service_info` and/or `loopscope_service_loopback_ratio`. */
export interface ServiceSummary {
  namespace: string;
  service: string;
  ingressIp: string;
  port: string;
  verdict?: string;
  trafficPolicy?: string;
  /** Cluster exposure (`loopscope_service_loopback_ratio`): ranks Services, dilutes with cluster size. */
  ratio?: number;
  /** The headline (`loopscope_service_worst_client_ratio`): what the worst-placed client pod suffers. */
  worstClient?: number;
  /** Pods known to call it (`loopscope_service_known_callers`, declared + observed). */
  knownCallers?: number;
  /** The callers' figure (`loopscope_service_callers_loopback_ratio`): the mean over the known callers. */
  callersRatio?: number;
}
