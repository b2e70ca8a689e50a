/** `-j MARK --set-xmark|--set-mark|--or-mark|--and-mark|--xor-mark`, and `-j CONNMARK`. */

import { type TargetExtension, parseMarkMask, parseMarkNumber, refuse } from './types';

/** Normalized to the xmark form: mark = (mark & ~mask) ^ value. */
export type MarkTarget = { kind: 'mark'; value: number; mask: number; text: string };
/** CONNMARK forms other than --restore-mark touch only the connection's mark. */
export type ConnmarkTarget = { kind: 'passive'; name: string; text: string };

export const markTarget: TargetExtension<MarkTarget> = {
  names: ['MARK'],
  kinds: ['mark'],
  options: { 'set-xmark': 1, 'set-mark': 1, 'or-mark': 1, 'and-mark': 1, 'xor-mark': 1 },
  parse(name, options, text) {
    if (options.length !== 1) return refuse('MARK needs exactly one mark option');
    const o = options[0] as (typeof options)[number];
    const raw = o.values[0] ?? '';
    if (o.name === 'set-xmark' || o.name === 'set-mark') {
      const vm = parseMarkMask(raw);
      if (!vm) return refuse(`cannot read mark "${raw}"`);
      // --set-mark V/M zeroes M and ORs V: in xmark terms the mask is V|M.
      const mask = o.name === 'set-mark' ? (vm.mask | vm.value) >>> 0 : vm.mask;
      return { kind: 'mark', value: vm.value, mask, text };
    }
    const v = parseMarkNumber(raw);
    if (v === null) return refuse(`cannot read mark "${raw}"`);
    if (o.name === 'or-mark') return { kind: 'mark', value: v, mask: v, text };
    if (o.name === 'xor-mark') return { kind: 'mark', value: v, mask: 0, text };
    if (o.name === 'and-mark') return { kind: 'mark', value: 0, mask: ~v >>> 0, text };
    return refuse(`unknown ${name} option --${o.name}`);
  },
  actions: (t) => [{ kind: 'mark', value: t.value, mask: t.mask }],
};

export const connmarkTarget: TargetExtension<ConnmarkTarget> = {
  names: ['CONNMARK'],
  kinds: [],
  options: {
    'set-xmark': 1,
    'set-mark': 1,
    'save-mark': 0,
    'restore-mark': 0,
    'and-mark': 1,
    'or-mark': 1,
    'xor-mark': 1,
    mask: 1,
    nfmask: 1,
    ctmask: 1,
  },
  parse(name, options, text) {
    // Only --restore-mark changes the packet mark; the other forms touch the connection mark.
    if (options.some((o) => o.name === 'restore-mark'))
      return refuse('CONNMARK --restore-mark sets the packet mark from the connection mark, which a dump does not show');
    return { kind: 'passive', name, text };
  },
  actions: () => [],
};
