import { join } from 'node:path';
import { CONF_FILE, INCLUDE_LINE, renderServerConf } from '../pg/conf.js';
import { renderHba } from '../pg/hba.js';
import type { NodeSpec } from '../spec/schema.js';
import type { Cluster } from './context.js';
import { synchronousStandbyNames } from './sync.js';

async function readOrEmpty(cluster: Cluster, path: string): Promise<string> {
  try {
    return await cluster.layout.readFile(path);
  } catch {
    return '';
  }
}

/**
 * Under HA a standby whose upstream restarted (a crashed primary restarted in place) or changed
 * reconnects within this, not PostgreSQL's 5 s: a synchronous primary's first commit waits for it.
 * A standby of a dead primary logs a failed attempt as often, for the second or two until an agent
 * points it elsewhere.
 */
const HA_RETRY_INTERVAL = '200ms';

/** Settings a node carries only for a moment, on top of what the spec says. */
export interface TransientSettings {
  readonly walRetrieveRetryInterval?: string;
}

/**
 * Brings a node's pgrepl-owned files (pgrepl.conf, pg_hba.conf, the include line) to what the spec
 * says, plus any `transient` settings. Returns true when anything changed, so a running server can
 * be told to reload.
 */
export async function writeServerFiles(cluster: Cluster, node: NodeSpec, transient: TransientSettings = {}): Promise<boolean> {
  const dataDir = cluster.layout.dataDir(node.name);
  const { replication } = cluster.spec;
  const wanted = new Map<string, string>([
    [
      CONF_FILE,
      renderServerConf({
        name: node.name,
        listenAddresses: [node.host],
        port: node.port,
        maxWalSenders: replication.maxWalSenders,
        maxReplicationSlots: replication.maxReplicationSlots,
        maxSlotWalKeepSizeMb: replication.maxSlotWalKeepSizeMb,
        walKeepSizeMb: replication.walKeepSizeMb,
        synchronousStandbyNames: synchronousStandbyNames(cluster.spec),
        recoveryMinApplyDelay: node.delay ?? '0',
        syncfsAtStartup: process.platform === 'linux' && cluster.bin.majorVersion >= 14,
        ...(cluster.spec.ha ? { walRetrieveRetryInterval: HA_RETRY_INTERVAL } : {}),
        ...transient,
      }),
    ],
    [
      'pg_hba.conf',
      renderHba({
        replicationUser: replication.user,
        nodeAddresses: cluster.spec.nodes.map((n) => n.host),
        clientAddresses: [...new Set(cluster.spec.nodes.map((n) => n.host))],
      }),
    ],
  ]);
  const mainConf = join(dataDir, 'postgresql.conf');
  const main = await readOrEmpty(cluster, mainConf);
  if (!main.includes(INCLUDE_LINE)) wanted.set('postgresql.conf', `${main.trimEnd()}\n\n${INCLUDE_LINE}\n`);
  let changed = false;
  for (const [file, content] of wanted) {
    const path = join(dataDir, file);
    if ((await readOrEmpty(cluster, path)) === content) continue;
    await cluster.layout.writeFile(path, content, 0o600, 'server');
    changed = true;
  }
  return changed;
}
