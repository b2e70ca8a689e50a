/** Targets that neither change the fields NAT decisions use nor stop the packet (LOG, TCPMSS…). */

import type { TargetExtension } from './types';

export type PassiveTarget = { kind: 'passive'; name: string; text: string };

export const passiveTargets: TargetExtension<PassiveTarget> = {
  names: [
    'LOG',
    'NFLOG',
    'ULOG',
    'TRACE',
    'AUDIT',
    'TCPMSS',
    'CHECKSUM',
    'CLASSIFY',
    'DSCP',
    'TOS',
    'TTL',
    'HL',
    'SET',
    'IDLETIMER',
    'LED',
    'SECMARK',
    'CONNSECMARK',
  ],
  kinds: ['passive'],
  // Their options do not matter to the trace; the generic guess reads them.
  options: {},
  parse: (name, _options, text) => ({ kind: 'passive', name, text }),
  actions: () => [],
};
