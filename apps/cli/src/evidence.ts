import { analyzeCluster, type ClusterAnalysis, type ClusterModel, type ProfileOverrides } from '@loopscope/core';
import { readNodeDumps } from '@loopscope/core/node';
import type { CliIO } from './io';

export const NODE_DUMPS_HELP = `Evidence:
  --node-dumps DIR        node dumps as DIR/<nodeName>/{iptables-save,ipset,addr,conntrack}.txt
                          (scripts/collect-node-dumps.sh); for those nodes the packet is traced through
                          the real rules instead of inferred, and [UNREPLIED] conntrack entries to an LB
                          are reported as observed failures`;

const MAX_SHOWN = 20;

/** Analyses the cluster, with node dumps as evidence when given; dump problems go to stderr. */
export function analyzeWithEvidence(
  cluster: ClusterModel,
  overrides: ProfileOverrides,
  nodeDumpsDir: string | undefined,
  io: CliIO,
): ClusterAnalysis {
  const nodeDumps = nodeDumpsDir
    ? readNodeDumps(nodeDumpsDir, {
        nodeAddresses: (name) => cluster.nodes[cluster.nodeByName.get(name) ?? -1]?.addresses ?? [],
        warn: (message) => io.stderr(`warning: ${message}\n`),
      })
    : undefined;
  const analysis = analyzeCluster(cluster, { overrides, nodeDumps });
  for (const p of analysis.evidenceProblems.slice(0, MAX_SHOWN)) io.stderr(`warning: ${p}\n`);
  if (analysis.evidenceProblems.length > MAX_SHOWN)
    io.stderr(`warning: … and ${analysis.evidenceProblems.length - MAX_SHOWN} more node-dump problem(s)\n`);
  return analysis;
}
