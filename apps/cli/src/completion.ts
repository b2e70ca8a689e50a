/**
 * Shell completion for bash and zsh (`loopscope completion bash|zsh`), generated from the commands'
 * own --help texts so a new flag is completed as soon as it is documented: every option line of a
 * help text ("  -o, --format table|json  …") gives the flag, and an `a|b|c` right after it the values.
 * Files complete for file-like flags; --context from `kubectl config get-contexts` (local, no cluster).
 */
import { UsageError } from './io';

export interface CommandHelp {
  summary: string;
  help: string;
}

interface CommandFlags {
  flags: string[];
  values: Record<string, string[]>;
}

const OPTION_LINE = /^\s{2,}(?:(-[A-Za-z]), )?(--[a-z][a-z0-9-]*)(?: ([^\s]+))?/;
const FILE_FLAGS = [
  '--snapshot',
  '--kubeconfig',
  '--node-dumps',
  '--out',
  '--iptables-save',
  '--ip6tables-save',
  '--ipset',
  '--addr',
  '--conntrack',
];

export function flagsOf(help: string): CommandFlags {
  const flags = new Set<string>(['--help']);
  const values: Record<string, string[]> = {};
  for (const line of help.split('\n')) {
    const m = OPTION_LINE.exec(line);
    if (!m) continue;
    const [, short, long, arg] = m;
    flags.add(long!);
    if (short) flags.add(short);
    const choices = arg && /^[A-Za-z0-9.-]+(\|[A-Za-z0-9.-]+)+$/.test(arg) ? arg.split('|').filter((v) => !/^[A-Z]+$/.test(v)) : [];
    if (choices.length && !FILE_FLAGS.includes(long!)) {
      values[long!] = choices;
      if (short) values[short] = choices;
    }
  }
  return { flags: [...flags].sort(), values };
}

export function completionScript(shell: string | undefined, commands: Record<string, CommandHelp>): string {
  const table = Object.fromEntries(Object.entries(commands).map(([name, c]) => [name, flagsOf(c.help)]));
  if (shell === 'bash') return bashScript(table);
  if (shell === 'zsh') return zshScript(table, commands);
  throw new UsageError(`completion: give bash or zsh (e.g. \`source <(loopscope completion bash)\`)`);
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function bashScript(table: Record<string, CommandFlags>): string {
  const cases = Object.entries(table)
    .map(([name, f]) => {
      const valueCases = Object.entries(f.values).map(
        ([flag, v]) => `        ${flag}) COMPREPLY=($(compgen -W ${q(v.join(' '))} -- "$cur")); return ;;`,
      );
      return [
        `    ${name})`,
        '      case "$prev" in',
        ...valueCases,
        '      esac',
        `      COMPREPLY=($(compgen -W ${q(f.flags.join(' '))} -- "$cur"))`,
        '      ;;',
      ].join('\n');
    })
    .join('\n');
  return `# bash completion for loopscope (and kubectl-loopscope): source <(loopscope completion bash)
_loopscope() {
  local cur prev cmd
  cur=\${COMP_WORDS[COMP_CWORD]}
  prev=\${COMP_WORDS[COMP_CWORD-1]}
  cmd=\${COMP_WORDS[1]}
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W ${q([...Object.keys(table), 'help', '--help', '--version'].join(' '))} -- "$cur"))
    return
  fi
  case "$prev" in
    ${FILE_FLAGS.join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --context) COMPREPLY=($(compgen -W "$(kubectl config get-contexts -o name 2>/dev/null)" -- "$cur")); return ;;
  esac
  case "$cmd" in
${cases}
  esac
}
complete -o default -F _loopscope loopscope kubectl-loopscope
`;
}

function zshScript(table: Record<string, CommandFlags>, commands: Record<string, CommandHelp>): string {
  const describe = Object.entries(commands).map(([name, c]) => `    ${q(`${name}:${c.summary.replace(/:/g, '\\:')}`)}`);
  const valueCases = Object.entries(table).flatMap(([name, f]) =>
    Object.entries(f.values).map(([flag, v]) => `    ${name}:${flag}) compadd -- ${v.join(' ')}; return ;;`),
  );
  const flagCases = Object.entries(table).map(([name, f]) => `    ${name}) compadd -- ${f.flags.join(' ')} ;;`);
  return `#compdef loopscope kubectl-loopscope
# zsh completion for loopscope: source <(loopscope completion zsh), or save as _loopscope in $fpath
_loopscope() {
  local -a commands
  commands=(
${describe.join('\n')}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  local cmd=\${words[2]} prev=\${words[CURRENT-1]}
  case "$prev" in
    ${FILE_FLAGS.join('|')}) _files; return ;;
    --context) compadd -- \${(f)"$(kubectl config get-contexts -o name 2>/dev/null)"}; return ;;
  esac
  case "$cmd:$prev" in
${valueCases.join('\n')}
  esac
  case "$cmd" in
${flagCases.join('\n')}
  esac
}
if [ "$funcstack[1]" = "_loopscope" ]; then
  _loopscope "$@"
else
  compdef _loopscope loopscope kubectl-loopscope
fi
`;
}
