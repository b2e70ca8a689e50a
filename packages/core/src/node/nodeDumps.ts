import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LoopscopeError } from '../error/loopscopeError';
import { loadNodeDumps, NODE_DUMP_FILES, type DumpText, type NodeDumpsInput, type NodeEvidence } from '../netfilter/nodeEvidence';

const LAYOUT = 'expected DIR/<nodeName>/iptables-save.txt …, as scripts/collect-node-dumps.sh writes';

export interface ReadNodeDumpsOptions {
  /**
   * A node's addresses known from elsewhere (the snapshot's InternalIPs), added to its addr.txt;
   * each is checked to be an IP address. Without it the dumps' own addr.txt is all there is.
   */
  nodeAddresses?: (nodeName: string) => readonly string[];
  /** Told about a node folder that holds no dump file (it is skipped). */
  warn?: (message: string) => void;
}

/**
 * Reads `DIR/<nodeName>/{iptables-save,ip6tables-save,ipset,addr,conntrack}.txt` (any may be
 * missing) into node evidence, by node name. A folder that cannot be read, or holds no node folder
 * with a dump, is an INPUT_UNREADABLE error naming it: an empty folder is not "no evidence found".
 */
export function readNodeDumps(dir: string, options: ReadNodeDumpsOptions = {}): Map<string, NodeEvidence> {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    entries = readdirSync(dir).sort();
  } catch {
    throw new LoopscopeError('INPUT_UNREADABLE', `--node-dumps ${dir}: not a readable directory (${LAYOUT})`);
  }
  const dumps = new Map<string, NodeEvidence>();
  for (const node of entries) {
    const nodeDir = join(dir, node);
    if (!statSync(nodeDir).isDirectory()) continue;
    const input: NodeDumpsInput = {};
    for (const [field, file] of Object.entries(NODE_DUMP_FILES) as Array<[keyof typeof NODE_DUMP_FILES, string]>) {
      const text = readDump(nodeDir, node, file);
      if (text) input[field] = text;
    }
    if (Object.keys(input).length === 0) {
      options.warn?.(`--node-dumps: ${nodeDir} has none of ${Object.values(NODE_DUMP_FILES).join(', ')}; skipped`);
      continue;
    }
    const addresses = options.nodeAddresses?.(node);
    dumps.set(node, loadNodeDumps(addresses ? { ...input, nodeAddresses: [...addresses] } : input));
  }
  if (dumps.size === 0) throw new LoopscopeError('INPUT_UNREADABLE', `--node-dumps ${dir}: no node folders with dumps in it (${LAYOUT})`);
  return dumps;
}

function readDump(nodeDir: string, node: string, file: string): DumpText | undefined {
  const path = join(nodeDir, file);
  if (!existsSync(path)) return undefined;
  try {
    return { text: readFileSync(path, 'utf8'), file: join(node, file) };
  } catch (err) {
    throw new LoopscopeError('INPUT_UNREADABLE', `--node-dumps: ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}
