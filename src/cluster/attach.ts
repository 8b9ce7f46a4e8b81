import { reloadConf } from '../pg/queries.js';
import type { Connector } from '../pg/sql.js';
import type { NodeSpec } from '../spec/schema.js';
import { withDeadline } from '../util/wait.js';
import { adminTarget, type Cluster } from './context.js';
import type { OnEvent } from './events.js';
import { writeUpstreamOf } from './follow.js';

/** A repoint that has not ended by then is left to the steps after the promotion. */
const REPOINT_WAIT_MS = 10_000;

/**
 * Points running replicas at `candidate` before it is promoted, so they stream from it as
 * cascading standbys. A cascading standby follows its upstream's promotion on the connection it
 * holds, so a synchronous quorum can acknowledge the new primary's first commit at once instead of
 * after a repoint. Each replica's new upstream is written at once and loaded only when
 * `slotsReady` says its slot exists on the candidate: a walreceiver that finds no slot gives up
 * until the retry interval (5 s) has passed. Each promise resolves to whether the replica loaded
 * its new upstream; a failure is reported as a warning and left for the caller to repoint later.
 */
export function repointAhead(next: Cluster, candidate: NodeSpec, followers: readonly NodeSpec[], slotsReady: Promise<boolean>, via: Connector, onEvent: OnEvent): Array<Promise<boolean>> {
  return followers.map((node) =>
    via(adminTarget(next, node), async (db) => {
      await writeUpstreamOf(next, node, candidate, db);
      if (!(await slotsReady)) return false;
      await reloadConf(db);
      return true;
    }).catch((error: Error) => {
      onEvent({ type: 'warning', node: node.name, message: `could not point it at ${candidate.name} before the promotion (${error.message}); it is repointed after it` });
      return false;
    }),
  );
}

/** The names of the followers whose repoint ended with them attached (waiting at most REPOINT_WAIT_MS). */
export async function attachedNames(followers: readonly NodeSpec[], repoints: ReadonlyArray<Promise<boolean>>): Promise<string[]> {
  const done = await Promise.all(repoints.map((r) => withDeadline(r, REPOINT_WAIT_MS, false)));
  return followers.filter((_, i) => done[i]).map((n) => n.name);
}
