import * as z from 'zod/mini';
import type { Dcs } from './dcs/dcs.js';

const configSchema = z.object({ paused: z.boolean(), by: z.optional(z.string()) });

/** Who paused the cluster: a person (`pgrepl pause`) or `down`, which stops agents before servers. */
export type PausedBy = 'user' | 'down';

/** True while automatic decisions are paused (cluster-wide, in the DCS `config` key). */
export async function readPaused(dcs: Dcs): Promise<boolean> {
  return (await readPause(dcs))?.paused ?? false;
}

export async function readPause(dcs: Dcs): Promise<{ paused: boolean; by?: string | undefined } | null> {
  const entry = await dcs.get('config');
  if (!entry) return null;
  const parsed = z.safeParse(configSchema, entry.value);
  // An unreadable config fails closed: paused, so no agent acts on a setting it cannot read.
  return parsed.success ? parsed.data : { paused: true, by: 'unreadable' };
}

export async function setPaused(dcs: Dcs, paused: boolean, by: PausedBy): Promise<void> {
  await dcs.put('config', { paused, by });
}
