import * as z from 'zod/mini';
import type { Dcs } from './dcs/dcs.js';
import type { SwitchoverRequest } from './snapshot.js';

export const REQUEST_KEY = 'switchover';
/** A request older than this is ignored: whoever made it has given up waiting. */
export const REQUEST_TTL_MS = 30_000;

const requestSchema = z.object({
  from: z.string(),
  to: z.nullable(z.string()),
  candidate: z.nullable(z.string()),
  /** The leader picked this node and waits for it to prepare (its future replicas' slots) before stopping. */
  chosen: z.optional(z.nullable(z.string())),
  /** The chosen node has prepared. */
  prepared: z.optional(z.boolean()),
  refused: z.nullable(z.string()),
  /** Wall-clock ms when asked. */
  at: z.number(),
  /** Wall-clock ms: the old primary stopped taking writes, the new one took them. */
  stoppedAt: z.optional(z.number()),
  promotedAt: z.optional(z.number()),
});

export type StoredRequest = z.output<typeof requestSchema>;

/** The stored request with its version, or null when there is none or it is unreadable. */
export async function readRequest(dcs: Dcs): Promise<{ request: StoredRequest; version: string } | null> {
  const entry = await dcs.get(REQUEST_KEY);
  if (!entry) return null;
  const parsed = z.safeParse(requestSchema, entry.value);
  return parsed.success ? { request: parsed.data, version: entry.version } : null;
}

/** The request an agent acts on: a fresh one only. */
export async function currentRequest(dcs: Dcs, nowWall = Date.now()): Promise<SwitchoverRequest | null> {
  const found = await readRequest(dcs);
  if (!found || nowWall - found.request.at > REQUEST_TTL_MS) return null;
  const { from, to, candidate, refused, chosen = null, prepared = false } = found.request;
  return { from, to, candidate, refused, chosen, prepared };
}

/**
 * Merges `patch` into the stored request (the agents record its progress there). The leader and
 * the candidate both write it, so a compare-and-swap lost to the other is retried on a fresh read.
 */
export async function updateRequest(dcs: Dcs, patch: Partial<StoredRequest>): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const found = await readRequest(dcs);
    if (!found || (await dcs.put(REQUEST_KEY, { ...found.request, ...patch }, found.version)) !== null) return;
  }
}
