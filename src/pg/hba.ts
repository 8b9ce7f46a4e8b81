import { hbaAddress, hbaName } from './quote.js';

/**
 * Renders pg_hba.conf. pgrepl replaces initdb's file whole: no `trust` lines, no 0.0.0.0/0, every
 * rule scram-sha-256, and replication admitted only for the replication role from the nodes' own
 * addresses.
 */
export interface HbaInput {
  readonly replicationUser: string;
  /** The addresses of every node in the cluster (any of them may stream from any other). */
  readonly nodeAddresses: readonly string[];
  /** Addresses allowed to open ordinary sessions (applications, pgrepl itself). */
  readonly clientAddresses: readonly string[];
}

/**
 * Linux gives a connection to any 127.0.0.0/8 address the source 127.0.0.1, so a node listening on
 * 127.0.0.2 is reached from 127.0.0.1 even by itself. Admitting that source opens nothing to the
 * network: only this machine can send from loopback, and it can already reach the node.
 */
function withLoopbackSource(addresses: readonly string[]): string[] {
  const loopback = addresses.some((a) => /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a) && a !== '127.0.0.1');
  return loopback ? [...addresses, '127.0.0.1'] : [...addresses];
}

function unique(values: readonly string[]): string[] {
  return [...new Set(withLoopbackSource(values).map(hbaAddress))];
}

export function renderHba(input: HbaInput): string {
  const role = hbaName(input.replicationUser);
  const lines = ['# Managed by pgrepl. TYPE DATABASE USER ADDRESS METHOD'];
  for (const cidr of unique(input.nodeAddresses)) {
    lines.push(`host replication ${role} ${cidr} scram-sha-256`);
  }
  // The replication role replicates and nothing more: no ordinary session on any database.
  for (const cidr of unique(input.clientAddresses)) {
    lines.push(`host all ${role} ${cidr} reject`);
  }
  for (const cidr of unique(input.clientAddresses)) {
    lines.push(`host all all ${cidr} scram-sha-256`);
  }
  return `${lines.join('\n')}\n`;
}
