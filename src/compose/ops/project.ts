import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { UsageError } from '../../errors.js';
import type { ConnectionTarget } from '../../pg/sql.js';
import { PRIMARY_FILE, STATE_DIR } from '../layout.js';
import { secretFile } from '../secrets.js';
import { writeFileAtomic } from '../../util/safe-fs.js';

export const COMPOSE_FILE = 'docker-compose.yml';

/** A generated project as read back from its directory: what failover, rejoin and status act on. */
export interface ComposeProject {
  readonly dir: string;
  /** pg1..pgN, in order. */
  readonly nodes: readonly string[];
  /** The passfile each node's primary_conninfo names (inside its container). */
  readonly passfile: string;
  /** Host address and port each node is published on. */
  readonly published: Readonly<Record<string, string>>;
  /** The postgres role's password (secrets/postgres_password): failover and status query the nodes over their published ports. */
  readonly password: string;
}

type Service = { environment?: Record<string, string>; ports?: string[] };

/** Reads docker-compose.yml: the services the node script runs (those with PGREPL_NODE). */
export async function loadProject(dirArg: string): Promise<ComposeProject> {
  const dir = resolve(dirArg);
  let text: string;
  try {
    text = await readFile(join(dir, COMPOSE_FILE), 'utf8');
  } catch {
    throw new UsageError(`${dir} has no ${COMPOSE_FILE}`, { hint: 'run this in a project written by pgrepl compose, or name it with -C DIR' });
  }
  const services = ((parse(text) as { services?: Record<string, Service> } | null)?.services) ?? {};
  const nodes = Object.entries(services).filter(([, s]) => s.environment?.PGREPL_NODE).map(([name]) => name);
  if (nodes.length === 0) {
    throw new UsageError(`${join(dir, COMPOSE_FILE)} was not written by pgrepl compose (no node runs pgrepl-node.sh)`, {
      hint: 'regenerate the project with pgrepl compose',
    });
  }
  const first = services[nodes[0]!]!.environment!;
  const published = Object.fromEntries(nodes.map((n) => [n, (services[n]!.ports?.[0] ?? '').replace(/:\d+$/, '')]));
  const password = await readFile(join(dir, secretFile('postgres_password')), 'utf8').catch(() => {
    throw new UsageError(`cannot read ${join(dir, secretFile('postgres_password'))}`, { hint: 'run pgrepl as the user that generated the project (or root)' });
  });
  return { dir, nodes, passfile: `${first.PGREPL_STATE_DIR}/replication.pgpass`, published, password: password.trim() };
}

/** Where the host reaches a node: its published address (loopback for a wildcard bind) and port. */
export function nodeTarget(project: ComposeProject, node: string): ConnectionTarget {
  const published = project.published[node] ?? '';
  const colon = published.lastIndexOf(':');
  const address = published.slice(0, colon).replace(/^\[|\]$/g, '');
  const host = address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address;
  return { host, port: Number(published.slice(colon + 1)), user: 'postgres', password: project.password };
}

/** state/primary: the node every node's entrypoint treats as the primary. */
export async function readPrimary(project: ComposeProject): Promise<string> {
  const path = join(project.dir, STATE_DIR, PRIMARY_FILE);
  const name = (await readFile(path, 'utf8').catch(() => '')).trim();
  if (!project.nodes.includes(name)) {
    throw new UsageError(`${path} names '${name}', which is not a node of this project (${project.nodes.join(', ')})`, {
      hint: `write the name of the node that holds the data, e.g. ${project.nodes[0]}`,
    });
  }
  return name;
}

/**
 * Replaces state/primary atomically and durably before anything is promoted: it is the fence, so
 * a crash must not bring back the old name. The directory, not the file, is bind-mounted, so
 * containers see the new file.
 */
export async function writePrimary(project: ComposeProject, node: string): Promise<void> {
  await writeFileAtomic(join(project.dir, STATE_DIR, PRIMARY_FILE), `${node}\n`, 0o644);
}
