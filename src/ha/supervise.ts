import { spawn } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import type { Cluster } from '../cluster/context.js';
import { isAlive } from '../pg/postmaster-pid.js';
import { readFileNoFollowSync } from '../util/safe-fs.js';
import { waitFor } from '../util/wait.js';

/** The agent process of `node` recorded in its pid file, if it is alive and really is that agent. */
export function runningAgent(cluster: Cluster, node: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileNoFollowSync(cluster.layout.agentPidFile(node)).trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return null;
  return isAgentOf(pid, node) ? pid : null;
}

/** Guards against a recycled pid: its command line must be `... agent --node NODE ...`. */
function isAgentOf(pid: number, node: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const at = argv.indexOf('--node');
    return argv.includes('agent') && at >= 0 && argv[at + 1] === node;
  } catch {
    return false;
  }
}

/**
 * Starts `node`'s agent in the background (this very CLI, `agent --node NODE --dir DIR`), its output
 * appended to DIR/agents/NODE.log, its pid in DIR/agents/NODE.pid. Returns the pid; an agent
 * already running is left as it is.
 */
export async function startAgent(cluster: Cluster, node: string, dcsUrl?: string): Promise<number> {
  const running = runningAgent(cluster, node);
  if (running !== null) return running;
  const { layout } = cluster;
  await layout.ensureDir(layout.agentsDir, 0o700, 'admin');
  const log = openSync(layout.agentLogFile(node), constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  try {
    const args = [process.argv[1]!, 'agent', '--node', node, '--dir', layout.root, ...(dcsUrl ? ['--dcs', dcsUrl] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', log, log], detached: true, env: process.env });
    if (child.pid === undefined) throw new Error(`cannot start the agent of ${node}`);
    child.unref();
    await layout.writeFile(layout.agentPidFile(node), `${child.pid}\n`, 0o600, 'admin');
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** Asks `node`'s agent to stop (SIGTERM) and waits until it has; false when none ran. */
export async function stopAgent(cluster: Cluster, node: string, timeoutMs = 30_000): Promise<boolean> {
  const pid = runningAgent(cluster, node);
  if (pid === null) return false;
  process.kill(pid, 'SIGTERM');
  await waitFor(() => (isAlive(pid) ? undefined : true), { what: `the agent of ${node} (pid ${pid}) to stop`, timeoutMs, intervalMs: 20 });
  return true;
}
