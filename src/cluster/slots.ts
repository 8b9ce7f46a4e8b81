import { dropSlot, ensurePhysicalSlot, physicalSlots } from '../pg/queries.js';
import { withConnection, type Queryable } from '../pg/sql.js';
import type { NodeSpec } from '../spec/schema.js';
import { downstreamOf } from '../spec/topology.js';
import { waitFor } from '../util/wait.js';
import { adminTarget, type Cluster } from './context.js';

/**
 * Gives `node` exactly the slots the spec says stream from it: one per downstream, named after it,
 * and drops inactive slots named after other cluster nodes (left by a topology change, they would
 * hold WAL back forever). Slots with other names are the user's: status warns, pgrepl keeps them.
 */
export async function reconcileSlots(cluster: Cluster, node: NodeSpec): Promise<void> {
  await withConnection(adminTarget(cluster, node), (db) => reconcileSlotsOn(db, cluster, node));
}

/** reconcileSlots over a connection the caller already holds to `node`. */
export async function reconcileSlotsOn(db: Queryable, cluster: Cluster, node: NodeSpec): Promise<void> {
  const wanted = new Set(downstreamOf(cluster.spec, node.name).map((n) => n.name));
  const clusterNames = new Set(cluster.spec.nodes.map((n) => n.name));
  for (const name of wanted) await ensurePhysicalSlot(db, name);
  for (const slot of await physicalSlots(db)) {
    if (clusterNames.has(slot.name) && !wanted.has(slot.name) && !slot.active) await dropSlot(db, slot.name);
  }
}

/**
 * Makes the named slots on `node` reserve WAL: one that is inactive and reserves none (made ahead
 * for a replica that then never connected) is made again, reserving. Only for slots whose replica
 * is known not to be connecting: it would find its slot gone for a moment.
 */
export async function reserveIdleSlots(cluster: Cluster, node: NodeSpec, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await withConnection(adminTarget(cluster, node), async (db) => {
    for (const slot of await physicalSlots(db)) {
      if (!names.includes(slot.name) || slot.active || slot.restartLsn !== null) continue;
      await dropSlot(db, slot.name);
      await ensurePhysicalSlot(db, slot.name);
    }
  });
}

/** Drops `slot` on `node` once its walsender has gone (a just-stopped replica's may linger briefly). */
export async function dropSlotWhenInactive(cluster: Cluster, node: NodeSpec, slot: string): Promise<void> {
  await withConnection(adminTarget(cluster, node), async (db) => {
    await waitFor(
      async () => {
        const found = (await physicalSlots(db)).find((s) => s.name === slot);
        if (!found) return true;
        return found.active ? undefined : (await dropSlot(db, slot)) || undefined;
      },
      { what: `slot ${slot} on ${node.name} to become inactive`, timeoutMs: 10_000, intervalMs: 10 },
    );
  });
}
