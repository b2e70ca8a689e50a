import { lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LoopscopeError } from '../error/loopscopeError';
import { inputLimits, readBoundedFileSync, type InputLimits } from './boundedRead';
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
 * Reads `DIR/<nodeName>/{iptables-save,ip6tables-save,ipset,addr,conntrack,nft}.txt` and `nft.json` (any may be
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
  const limits = inputLimits();
  for (const node of entries) {
    const nodeDir = join(dir, node);
    let isDir: boolean;
    try {
      isDir = statSync(nodeDir).isDirectory();
    } catch (err) {
      // A dangling symlink (or an entry removed meanwhile) is not a node folder: said and skipped.
      options.warn?.(
        `--node-dumps: ${nodeDir} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}${isSymlink(nodeDir) ? ', a dangling symlink' : ''}); skipped`,
      );
      continue;
    }
    if (!isDir) continue;
    const input: NodeDumpsInput = {};
    for (const [field, file] of Object.entries(NODE_DUMP_FILES) as Array<[keyof typeof NODE_DUMP_FILES, string]>) {
      const text = readDump(nodeDir, node, file, limits);
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

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** A missing dump file is no evidence of that kind; a dangling symlink or an oversized one is an error naming it. */
function readDump(nodeDir: string, node: string, file: string, limits: InputLimits): DumpText | undefined {
  const path = join(nodeDir, file);
  try {
    lstatSync(path);
  } catch {
    return undefined;
  }
  return { text: readBoundedFileSync(path, `--node-dumps: ${path}`, limits), file: join(node, file) };
}
