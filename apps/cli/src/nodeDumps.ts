import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadNodeDumps, NODE_DUMP_FILES, type ClusterModel, type DumpText, type NodeEvidence } from '@loopscope/core';
import { UsageError, type CliIO } from './io';

const DUMP_FILES = NODE_DUMP_FILES;

/**
 * Reads `DIR/<nodeName>/{iptables-save,ipset,addr,conntrack}.txt` (any may be missing) into node
 * evidence. The node's InternalIPs from the snapshot are added to its addresses.
 */
export function readNodeDumps(dir: string, cluster: ClusterModel, io: CliIO): Map<string, NodeEvidence> {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    entries = readdirSync(dir).sort();
  } catch {
    throw new UsageError(`--node-dumps ${dir}: not a readable directory (expected DIR/<nodeName>/iptables-save.txt …, as scripts/collect-node-dumps.sh writes)`);
  }
  const dumps = new Map<string, NodeEvidence>();
  for (const node of entries) {
    const nodeDir = join(dir, node);
    if (!statSync(nodeDir).isDirectory()) continue;
    const input: Partial<Record<keyof typeof DUMP_FILES, DumpText>> = {};
    for (const [field, file] of Object.entries(DUMP_FILES) as Array<[keyof typeof DUMP_FILES, string]>) {
      const path = join(nodeDir, file);
      if (!existsSync(path)) continue;
      try {
        input[field] = { text: readFileSync(path, 'utf8'), file: join(node, file) };
      } catch (err) {
        throw new UsageError(`--node-dumps: ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      }
    }
    if (Object.keys(input).length === 0) {
      io.stderr(`warning: --node-dumps: ${nodeDir} has none of ${Object.values(DUMP_FILES).join(', ')}; skipped\n`);
      continue;
    }
    const clusterNode = cluster.nodes[cluster.nodeByName.get(node) ?? -1];
    dumps.set(node, loadNodeDumps({ ...input, nodeAddresses: clusterNode?.addresses ?? [] }));
  }
  if (dumps.size === 0) throw new UsageError(`--node-dumps ${dir}: no node folders with dumps in it (expected DIR/<nodeName>/iptables-save.txt …)`);
  return dumps;
}
