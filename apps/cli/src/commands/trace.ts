import {
  describeConntrackEntry,
  formatIp,
  formatDumpProblem,
  formatTraceText,
  loadNodeDumps,
  parseEndpoint,
  parseIp,
  traceLbPacket,
  LoopscopeError,
  traceVerdict,
  type DumpText,
  type NodeEvidence,
  type TraceResult,
} from '@loopscope/core';
import { readBounded } from '@loopscope/core/node';
import { formatFlag, parseCommandArgs } from '../args';
import { UsageError, type CliIO, type Command } from '../io';

export const TRACE_HELP = `Usage: loopscope trace --iptables-save FILE [--ipset FILE] [--addr FILE] --src IP --dst IP:PORT
       loopscope trace --nft FILE [--addr FILE] --src IP --dst IP:PORT
                      [--proto tcp|udp|sctp] [--hook prerouting|output] [--format text|json]

Traces the first packet of a connection through a node's nat table, from a pod (PREROUTING) or a
host process (OUTPUT), and says whether the node captures it (DNAT, or the address is bound on the
node, e.g. on kube-ipvs0) or lets it leave, and whether it is SNATed (MASQUERADE) on the way out —
with every rule it matched (chain, rule number, file:line). Collect the files on the node with
scripts/collect-node-dumps.sh.

  --iptables-save FILE    iptables-save output (all tables, or at least -t nat); - for stdin
  --ip6tables-save FILE   ip6tables-save output, for IPv6 packets (an ip6tables dump given to
                          --iptables-save is recognized too)
  --nft FILE              nft list ruleset (text) or nft -j list ruleset (JSON), detected:
                          kube-proxy nftables mode; with --iptables-save too, the base chains
                          of both are walked by priority, as the kernel does
  --ipset FILE            ipset save (or ipset list) output; needed when rules use -m set
                          (kube-proxy IPVS mode), else those rules make the answer uncertain
  --addr FILE             ip -o addr output: node addresses and what is bound on kube-ipvs0;
                          without it, whether the LB IP is bound on the node is unknown
  --conntrack FILE        conntrack -L output: also list the connections seen for this packet
  --node-ip IP            a node address to add to --addr (repeatable)
  --src IP                the client: a pod IP (prerouting) or a node IP (output)
  --dst IP:PORT           the destination, e.g. the LB ingress 10.0.0.5:80 or [fd00::5]:80
  --proto P               tcp (default), udp or sctp
  --hook H                prerouting (default: pod traffic) or output (host processes)
  --sport N               the client's source port, for rules that test it
  --mark M                the packet mark when it reaches nat (default 0)
  --in-interface IF       the interface the packet enters by, for -i rules
  --out-interface IF      the interface it leaves by, for -o rules (e.g. eth0)
  --filter                also walk the filter table, to see drops there
  --format text|json      default text; json has captured, how, snat, snatRule, dnat, rules,
                          outcomes (with probabilities), uncertain and reasons

Exit codes: 0 traced (even when uncertain: read "uncertain"); 2 bad usage or unreadable input.
`;

const OPTIONS = {
  'iptables-save': { type: 'string' },
  'ip6tables-save': { type: 'string' },
  nft: { type: 'string' },
  ipset: { type: 'string' },
  addr: { type: 'string' },
  conntrack: { type: 'string' },
  'node-ip': { type: 'string', multiple: true },
  src: { type: 'string' },
  dst: { type: 'string' },
  proto: { type: 'string' },
  hook: { type: 'string' },
  sport: { type: 'string' },
  mark: { type: 'string' },
  'in-interface': { type: 'string' },
  'out-interface': { type: 'string' },
  filter: { type: 'boolean' },
  format: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Reads one dump; `-` is standard input (once). Errors name the flag and the file. */
async function readDump(flag: string, path: string | undefined, io: CliIO, stdin: { used: boolean }): Promise<DumpText | undefined> {
  if (path === undefined) return undefined;
  if (path === '') throw new UsageError(`trace: --${flag} needs a file name`);
  if (path === '-') {
    if (stdin.used) throw new UsageError('trace: only one of the files can be - (standard input)');
    stdin.used = true;
    return { text: await io.readStdin(`--${flag} -`), file: `${flag} (stdin)` };
  }
  // Capped (LOOPSCOPE_MAX_INPUT_BYTES); a missing file, a directory or a FIFO without writer is one line naming it.
  try {
    return { text: await readBounded(path, `trace: cannot read --${flag} ${path}`), file: path };
  } catch (err) {
    // By name: this module's tests stand in a part of core for @loopscope/core.
    throw err instanceof Error && err.name === 'LoopscopeError' ? new UsageError(err.message) : err;
  }
}

function parseNumber(flag: string, text: string | undefined, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = /^0x[0-9a-f]+$/i.test(text) || /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > max) throw new UsageError(`trace: --${flag} ${text}: expected a number from 0 to ${max}`);
  return n;
}

/** What conntrack says about this client and destination: the observed outcome. */
function conntrackEvidence(node: NodeEvidence, r: TraceResult): string[] {
  const src = parseIp(r.packet.src);
  const entries = node.connectionsTo(r.packet.dst, r.packet.dport, r.packet.proto).filter((e) => src && e.original.src.value === src.value);
  if (entries.length === 0) return [`conntrack: no connection from ${r.packet.src} to ${r.packet.dst}:${r.packet.dport} in the dump`];
  const unreplied = entries.filter((e) => e.unreplied).length;
  const snat = entries.filter((e) => e.snat).length;
  const lines = [
    `conntrack: ${entries.length} connection(s) from ${r.packet.src} to ${r.packet.dst}:${r.packet.dport}; ${unreplied} never answered [UNREPLIED]; source rewritten (SNAT) in ${snat}`,
  ];
  for (const e of entries.slice(0, 10)) lines.push(`  - ${describeConntrackEntry(e)}`);
  if (entries.length > 10) lines.push(`  … ${entries.length - 10} more`);
  return lines;
}

export const trace: Command = async (args, io) => {
  const { values, positionals } = parseCommandArgs('trace', args, OPTIONS, true);
  if (values.help) {
    io.stdout(TRACE_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`trace: unexpected argument "${positionals[0]}" (see \`loopscope trace --help\`)`);
  const format = formatFlag('trace', values.format, ['text', 'json'], 'text');
  if (!values['iptables-save'] && !values['ip6tables-save'] && !values.nft)
    throw new UsageError('trace: --iptables-save FILE or --nft FILE is required (iptables-save or nft list ruleset output from the node)');
  if (!values.src) throw new UsageError('trace: --src IP is required (the pod IP, or a node IP with --hook output)');
  if (!values.dst) throw new UsageError('trace: --dst IP:PORT is required (e.g. the LB ingress 10.0.0.5:80)');
  const src = parseIp(values.src);
  if (!src) throw new UsageError(`trace: --src ${values.src}: not an IP address`);
  const dst = parseEndpoint(values.dst);
  if (!dst) throw new UsageError(`trace: --dst ${values.dst}: expected IP:PORT, e.g. 10.0.0.5:80 or [fd00::5]:80`);
  if (dst.port === null)
    throw new UsageError(
      `trace: --dst ${values.dst}: give the port too, e.g. ${values.dst.includes(':') ? `[${values.dst}]` : values.dst}:80`,
    );
  if (src.family !== dst.ip.family) throw new UsageError('trace: --src and --dst are of different address families');
  const hook = (values.hook ?? 'prerouting').toLowerCase();
  if (hook !== 'prerouting' && hook !== 'output')
    throw new UsageError(`trace: --hook ${values.hook}: expected prerouting (pods) or output (host processes)`);
  const proto = (values.proto ?? 'tcp').toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new UsageError(`trace: --proto ${values.proto}: expected tcp, udp or sctp`);
  const sport = parseNumber('sport', values.sport, 65535);
  const mark = parseNumber('mark', values.mark, 0xffffffff);
  for (const ip of values['node-ip'] ?? []) if (!parseIp(ip)) throw new UsageError(`trace: --node-ip ${ip}: not an IP address`);

  const stdin = { used: false };
  const node = loadNodeDumps({
    iptablesSave: await readDump('iptables-save', values['iptables-save'], io, stdin),
    ip6tablesSave: await readDump('ip6tables-save', values['ip6tables-save'], io, stdin),
    nftText: await readDump('nft', values.nft, io, stdin),
    ipset: await readDump('ipset', values.ipset, io, stdin),
    addr: await readDump('addr', values.addr, io, stdin),
    conntrack: await readDump('conntrack', values.conntrack, io, stdin),
    nodeAddresses: values['node-ip'],
  });

  // A dump that holds no rules of the packet's family is a usage error, not an uncertain answer.
  const family = dst.ip.family;
  const dump = family === 6 ? node.iptables.ipv6 : node.iptables.ipv4;
  const nftTables = node.nft?.tables.filter((t) => t.family === 'inet' || t.family === (family === 6 ? 'ip6' : 'ip')) ?? [];
  if (values.nft && !dump && nftTables.length === 0) {
    const fatal = node.problems
      .filter((p) => p.severity === 'error')
      .slice(0, 3)
      .map(formatDumpProblem);
    throw new UsageError(
      `trace: --nft ${values.nft}: no ${family === 6 ? 'ip6 or inet' : 'ip or inet'} table for this IPv${family} packet${fatal.length ? ` (${fatal.join('; ')})` : ''}`,
    );
  }
  if (!dump && !values.nft) {
    const given = values['iptables-save'] ?? values['ip6tables-save'];
    const other = family === 6 ? node.iptables.ipv4 : node.iptables.ipv6;
    const fatal = node.problems.filter((p) => p.severity === 'error' && p.line === 0).map(formatDumpProblem);
    if (other)
      throw new UsageError(
        `trace: the packet is IPv${family} but ${other.file} holds ${family === 6 ? 'IPv4 (iptables-save)' : 'IPv6 (ip6tables-save)'} rules; give the ${family === 6 ? 'ip6tables-save output with --ip6tables-save' : 'iptables-save output with --iptables-save'}`,
      );
    throw new UsageError(`trace: ${given}: no iptables-save table found${fatal.length ? ` (${fatal.join('; ')})` : ''}`);
  }

  let result: TraceResult;
  try {
    result = traceLbPacket(node, {
      src: values.src,
      dst: formatIp(dst.ip),
      dport: dst.port,
      proto,
      hook: hook === 'output' ? 'OUTPUT' : 'PREROUTING',
      sport,
      mark,
      inInterface: values['in-interface'],
      outInterface: values['out-interface'],
      filter: values.filter ?? false,
    });
  } catch (err) {
    if (err instanceof LoopscopeError) throw new UsageError(`trace: ${err.message}`);
    throw err;
  }

  const problems = node.problems.map((p) => ({ ...p, text: formatDumpProblem(p) }));
  if (format === 'json') {
    const evidence = values.conntrack
      ? node.connectionsTo(result.packet.dst, result.packet.dport, result.packet.proto).filter((e) => e.original.src.value === src.value)
      : null;
    const out = {
      apiVersion: 'loopscope/v1',
      kind: 'Trace',
      verdict: traceVerdict(result),
      ...result,
      conntrack: evidence?.map((e) => ({
        text: describeConntrackEntry(e),
        state: e.state,
        unreplied: e.unreplied,
        assured: e.assured,
        snat: e.snat,
        dnat: e.dnat,
        line: e.line,
      })),
      problems: problems.map(({ file, line, severity, message }) => ({ file, line, severity, message })),
    };
    io.stdout(JSON.stringify(out, null, 2) + '\n');
    return 0;
  }
  let text = formatTraceText(result);
  if (values.conntrack) text += '\n' + conntrackEvidence(node, result).join('\n') + '\n';
  if (problems.length > 0) {
    text += `\n${problems.length} problem(s) reading the dumps${problems.length > 10 ? ' (first 10)' : ''}:\n`;
    text += problems
      .slice(0, 10)
      .map((p) => `  ${p.text}\n`)
      .join('');
  }
  io.stdout(text);
  return 0;
};
