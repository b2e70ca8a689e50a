import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_GENERATE_OPTIONS as D,
  GENERATOR_PROVIDERS,
  GENERATOR_PROXY_MODES,
  generateCluster,
  toKubeLists,
  type GenerateClusterOptions,
  type GeneratedCluster,
} from '@loopscope/generator';
import { parseCommandArgs } from '../args';
import { UsageError, type Command } from '../io';

/** Above this many pods, `--out -` is refused: one List that large is slow to print and to read back. */
const MAX_STDOUT_PODS = 20_000;
/** Up to this many pods the files are indented as kubectl prints them; above, one line each (indenting 150,000 pods takes 2.5× the disk, 1.7 GB). */
const MAX_PRETTY_PODS = 10_000;

export const GENERATE_HELP = `Usage: loopscope generate --nodes N --pods N --services N --internal-lb N --out DIR|- [options]

Writes a synthetic cluster as kubectl JSON: realistic nodes, pods, Services and EndpointSlices of the
chosen cloud, deterministic for a seed. Analyse it with \`loopscope analyze --snapshot DIR\`.

  --nodes N               nodes
  --pods N                pods in total, system pods (kube-proxy, CNI agents, DNS) included
  --services N            Services in total, default/kubernetes and kube-dns included
  --internal-lb N         how many Services are internal load balancers
  --public-lb N           how many are public load balancers (default 0)
  --provider tke|aws|azure|gcp          default tke
  --proxy-mode ipvs|iptables|nftables|cilium
                          default ipvs on tke, iptables elsewhere; cilium = Cilium kube-proxy replacement
  --local-share F         fraction of LB Services with externalTrafficPolicy Local (default ${D.localShare})
  --direct-to-pod-share F fraction of internal LBs with pod backends, tke/aws (default ${D.directToPodShare})
  --ip-mode-proxy-share F fraction of LB ingress IPs with ipMode Proxy (default ${D.ipModeProxyShare})
  --prevent-loopback-share F
                          tke: fraction of internal LBs with service.cloud.tencent.com/prevent-loopback (default ${D.preventLoopbackShare})
  --fixed-build-share F   tke: fraction of nodes on kube-proxy v1.20.6-tke.12, the rest v1.20.6-tke.3 (default ${D.fixedBuildShare})
  --kube-proxy-version V  one kube-proxy/kubelet version on every node (overrides --fixed-build-share)
  --endpoints MIN-MAX     endpoints per application Service (default ${D.endpointsPerService.min}-${D.endpointsPerService.max})
  --namespaces N          application namespaces (default: about one per 40 Services)
  --seed N                PRNG seed (default ${D.seed}): same flags and seed, same bytes
  --out DIR|-             directory to write, or - for one List on stdout (up to ${MAX_STDOUT_PODS.toLocaleString('en-US')} pods)
  --pods-per-file N       pods per pods-NNN.json file (default 10000)
  --compact | --pretty    one line of JSON per file, or kubectl's four-space indent
                          (default: indented up to ${MAX_PRETTY_PODS.toLocaleString('en-US')} pods, one line above)

Files in DIR: nodes.json, pods-000.json…, services.json, endpointslices.json, kube-system.json
(ConfigMaps and DaemonSets of kube-system), workloads.json (ReplicaSets and Jobs, for owner chains).
A 5,000-node, 150,000-pod cluster takes about half a minute, 2 GB of memory and 0.7 GB of disk.

Exit codes: 0 ok; 2 bad usage.
`;

const INTEGER_FLAGS = {
  nodes: { option: 'nodes', min: 1 },
  pods: { option: 'pods', min: 0 },
  services: { option: 'services', min: 2 },
  'internal-lb': { option: 'internalLbServices', min: 0 },
  'public-lb': { option: 'publicLbServices', min: 0 },
  namespaces: { option: 'namespaces', min: 1 },
} as const;

const SHARE_FLAGS = {
  'local-share': 'localShare',
  'direct-to-pod-share': 'directToPodShare',
  'ip-mode-proxy-share': 'ipModeProxyShare',
  'prevent-loopback-share': 'preventLoopbackShare',
  'fixed-build-share': 'fixedBuildShare',
} as const;

/** Generator option names as the flags that set them, for error messages. */
const FLAG_OF: Record<string, string> = {
  nodes: '--nodes',
  pods: '--pods',
  services: '--services',
  internalLbServices: '--internal-lb',
  publicLbServices: '--public-lb',
  namespaces: '--namespaces',
  endpointsPerService: '--endpoints',
  kubeProxyVersion: '--kube-proxy-version',
  provider: '--provider',
  proxyMode: '--proxy-mode',
  seed: '--seed',
  ...Object.fromEntries(Object.entries(SHARE_FLAGS).map(([flag, option]) => [option, `--${flag}`])),
};

function integer(flag: string, value: string, min: number): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`generate: --${flag} ${value}: expected a whole number${min > 0 ? ` ≥ ${min}` : ''}`);
  }
  return Number(value);
}

function share(flag: string, value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || v < 0 || v > 1)
    throw new UsageError(`generate: --${flag} ${value}: expected a fraction between 0 and 1 (e.g. 0.25)`);
  return v;
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`generate: --${flag} ${value}: expected one of ${allowed.join(', ')}`);
  return value as T;
}

/** Reads the flags into generator options; every bad value is a UsageError naming its flag. */
export function generateOptions(values: Record<string, string | boolean | undefined>): GenerateClusterOptions {
  const o: Record<string, unknown> = {};
  for (const [flag, spec] of Object.entries(INTEGER_FLAGS)) {
    const v = values[flag];
    if (typeof v === 'string') o[spec.option] = integer(flag, v, spec.min);
  }
  for (const [flag, option] of Object.entries(SHARE_FLAGS)) {
    const v = values[flag];
    if (typeof v === 'string') o[option] = share(flag, v);
  }
  if (typeof values.provider === 'string') o.provider = oneOf('provider', values.provider, GENERATOR_PROVIDERS);
  if (typeof values['proxy-mode'] === 'string') o.proxyMode = oneOf('proxy-mode', values['proxy-mode'], GENERATOR_PROXY_MODES);
  if (typeof values.seed === 'string') {
    if (!/^-?\d+$/.test(values.seed.trim()) || !Number.isSafeInteger(Number(values.seed)))
      throw new UsageError(`generate: --seed ${values.seed}: expected a whole number`);
    o.seed = Number(values.seed);
  }
  if (typeof values.endpoints === 'string') {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(values.endpoints);
    if (!m || (m[2] !== undefined && Number(m[2]) < Number(m[1])))
      throw new UsageError(`generate: --endpoints ${values.endpoints}: expected MIN-MAX (e.g. 2-6) or one number`);
    o.endpointsPerService = [Number(m[1]), Number(m[2] ?? m[1])];
  }
  if (typeof values['kube-proxy-version'] === 'string') {
    const v = values['kube-proxy-version'];
    if (!/^v\d+\.\d+\.\d+\S*$/.test(v)) throw new UsageError(`generate: --kube-proxy-version ${v}: expected a version like v1.20.6-tke.12`);
    o.kubeProxyVersion = v;
  }
  const missing = ['nodes', 'pods', 'services', 'internal-lb', 'out'].filter((f) => values[f] === undefined);
  if (missing.length > 0)
    throw new UsageError(`generate: missing ${missing.map((f) => `--${f}`).join(', ')} (see \`loopscope generate --help\`)`);
  return o as GenerateClusterOptions;
}

/** The generator's complaint about the options, in terms of flags. */
function flagMessage(err: RangeError): string {
  let msg = err.message;
  for (const [option, flag] of Object.entries(FLAG_OF)) msg = msg.replace(new RegExp(`(^|[\\s(])${option}\\b`, 'g'), `$1${flag}`);
  return `generate: ${msg}`;
}

function summary(cluster: GeneratedCluster): string {
  const i = cluster.items;
  const n = (x: number): string => x.toLocaleString('en-US');
  const lbs = i.services.filter((s) => s.spec.type === 'LoadBalancer').length;
  return `${n(i.nodes.length)} nodes, ${n(i.pods.length)} pods, ${n(i.services.length)} Services (${n(lbs)} LoadBalancer), ${n(i.endpointSlices.length)} EndpointSlices; ${cluster.options.provider}, ${cluster.options.proxyMode}, seed ${cluster.options.seed}`;
}

export const generate: Command = async (args, io) => {
  const { values } = parseCommandArgs('generate', args, {
    nodes: { type: 'string' },
    pods: { type: 'string' },
    services: { type: 'string' },
    'internal-lb': { type: 'string' },
    'public-lb': { type: 'string' },
    provider: { type: 'string' },
    'proxy-mode': { type: 'string' },
    'local-share': { type: 'string' },
    'direct-to-pod-share': { type: 'string' },
    'ip-mode-proxy-share': { type: 'string' },
    'prevent-loopback-share': { type: 'string' },
    'fixed-build-share': { type: 'string' },
    'kube-proxy-version': { type: 'string' },
    endpoints: { type: 'string' },
    namespaces: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    'pods-per-file': { type: 'string' },
    compact: { type: 'boolean' },
    pretty: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(GENERATE_HELP);
    return 0;
  }
  const options = generateOptions(values);
  const out = values.out!;
  const podsPerFile = values['pods-per-file'] === undefined ? undefined : integer('pods-per-file', values['pods-per-file'], 1);
  if (out === '-' && (options.pods ?? 0) > MAX_STDOUT_PODS) {
    throw new UsageError(
      `generate: --out - prints one List; ${options.pods!.toLocaleString('en-US')} pods is more than ${MAX_STDOUT_PODS.toLocaleString('en-US')}: write files with --out DIR`,
    );
  }
  let cluster: GeneratedCluster;
  try {
    cluster = generateCluster(options);
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(flagMessage(err));
    throw err;
  }
  if (values.compact && values.pretty) throw new UsageError('generate: --compact and --pretty exclude each other');
  const pretty = values.pretty ?? (!values.compact && cluster.items.pods.length <= MAX_PRETTY_PODS);
  const indent = pretty ? 4 : undefined;
  if (out === '-') {
    io.stdout(JSON.stringify(cluster.toList(), null, indent) + '\n');
    io.stderr(`generated ${summary(cluster)}\n`);
    return 0;
  }
  try {
    mkdirSync(out, { recursive: true });
  } catch (err) {
    throw new UsageError(`generate: --out ${out}: cannot create the directory (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let bytes = 0;
  const files = toKubeLists(cluster, { podsPerFile });
  for (const file of files) {
    const text = JSON.stringify(file.list, null, indent) + '\n';
    bytes += Buffer.byteLength(text);
    try {
      writeFileSync(join(out, file.name), text);
    } catch (err) {
      throw new UsageError(`generate: cannot write ${join(out, file.name)} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
  io.stdout(
    `wrote ${files.length} files (${(bytes / 1e6).toFixed(1)} MB) to ${out}: ${summary(cluster)}\n` +
      `analyse it with: loopscope analyze --snapshot ${out}\n`,
  );
  return 0;
};
