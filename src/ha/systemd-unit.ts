import { join } from 'node:path';
import { UsageError } from '../errors.js';

/**
 * One word of a systemd ExecStart= line. systemd is not a shell: it expands `%` specifiers and `$`
 * variables even inside quotes, and unquotes "..." with C escapes; a `'\''` splice is not its syntax.
 * A plain word stays as it is; anything else is double-quoted with `\` and `"` escaped. A control
 * character (a newline would start a new unit line) has no safe spelling and is refused.
 */
export function systemdArg(word: string): string {
  if (/[\u0000-\u001f\u007f]/.test(word)) throw new UsageError(`${JSON.stringify(word)} holds a control character and cannot go into a systemd unit`, { hint: 'use a directory path without control characters' });
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /^[\w@%+=:,./-]+$/.test(word) ? escaped : `"${escaped.replace(/[\\"]/g, '\\$&')}"`;
}

/** A systemd unit that runs one node's agent on a real server, with the node and program paths given. */
export function systemdUnit(program: { node: string; script: string }, root: string, node: string, dcs: string | undefined): string {
  const argv = [program.node, program.script, 'agent', '--node', node, '--dir', root, ...(dcs ? ['--dcs', dcs] : [])];
  return [
    `# The agents sign their requests to each other with ${join(root, 'secrets', 'agent-api.key')}:`,
    '# on another machine, copy that file there (same path, mode 0600) before starting this unit.',
    '[Unit]',
    `Description=pgrepl HA agent for ${node}`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${argv.map(systemdArg).join(' ')}`,
    // Only the agent gets the signal: it stops its own PostgreSQL itself (unless paused), and a
    // restarted agent finds a server it left running (paused) still there.
    'KillMode=process',
    'TimeoutStopSec=60',
    'Restart=on-failure',
    'RestartSec=1',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
