/** Statements back to nft syntax, for rules read from JSON (the trace quotes them). */

import type { NftElement, NftExpr, NftOperand, NftStatement, NftValue, NftVerdict } from './model';

export function formatExpr(e: NftExpr): string {
  switch (e.kind) {
    case 'field':
      return e.name.startsWith('meta ') && ['meta mark', 'meta iifname', 'meta oifname'].includes(e.name) ? e.name.slice(5) : e.name;
    case 'concat':
      return e.parts.map(formatExpr).join(' . ');
    case 'binop':
      return `${formatExpr(e.left)} ${e.op} 0x${e.right.toString(16)}`;
    case 'numgen':
      return `numgen ${e.mode} mod ${e.mod}${e.offset ? ` offset ${e.offset}` : ''}`;
  }
}

function formatValue(v: NftValue): string {
  if (v.kind === 'word') return v.text;
  if (v.kind === 'range') return `${v.from}-${v.to}`;
  return v.parts.map(formatValue).join(' . ');
}

export function formatVerdict(v: NftVerdict): string {
  if (v.kind === 'jump' || v.kind === 'goto') return `${v.kind} ${v.target}`;
  if (v.kind === 'reject') return v.with ? `reject with ${v.with}` : 'reject';
  return v.kind;
}

function formatElement(e: NftElement): string {
  const data = e.verdict ? ` : ${formatVerdict(e.verdict)}` : e.data ? ` : ${e.data}` : '';
  return formatValue(e.key) + data;
}

function formatOperand(o: NftOperand): string {
  if (o.kind === 'setRef') return `@${o.name}`;
  if (o.kind === 'set') return `{ ${o.elements.map(formatElement).join(', ')} }`;
  return formatValue(o.value);
}

function formatStatement(s: NftStatement): string {
  switch (s.kind) {
    case 'match':
      return `${formatExpr(s.left)} ${s.op === '==' && s.left.kind !== 'binop' ? '' : s.op + ' '}${formatOperand(s.right)}`;
    case 'verdict':
      return formatVerdict(s.verdict);
    case 'vmap':
      return `${formatExpr(s.key)} vmap ${formatOperand(s.map)}`;
    case 'nat':
      return `${s.type} to ${s.addr ?? ''}${s.port !== null ? ':' + s.port : ''}`;
    case 'masquerade':
      return `masquerade${s.port ? ` to :${s.port}` : ''}${s.fullyRandom ? ' fully-random' : ''}`;
    case 'redirect':
      return `redirect${s.port ? ` to :${s.port}` : ''}`;
    case 'markSet':
      return `mark set ${typeof s.value === 'number' ? '0x' + s.value.toString(16) : formatExpr(s.value)}`;
    case 'passive':
      return s.name;
    case 'unknown':
      return s.text;
  }
}

export function formatStatements(statements: NftStatement[], comment: string | null): string {
  const parts = statements.map(formatStatement);
  if (comment !== null) parts.push(`comment ${JSON.stringify(comment)}`);
  return parts.join(' ');
}
