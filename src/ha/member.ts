import * as z from 'zod/mini';

/**
 * What an agent publishes about its node in the DCS each cycle, and answers on `GET /status`. Read
 * back by other agents, `status` and the console: validated on the way in, since a DCS (and a peer)
 * is input like any file.
 */
export const memberStateSchema = z.object({
  name: z.string(),
  /** The agent's REST base URL. */
  apiUrl: z.string(),
  running: z.boolean(),
  role: z.nullable(z.enum(['primary', 'replica'])),
  timeline: z.nullable(z.int()),
  /** Primary: write position; replica: last received. Text form ("0/5000000"). */
  lsn: z.nullable(z.string()),
  /** Replica: its walreceiver streams; from which node (by primary_conninfo). */
  streaming: z.boolean(),
  upstream: z.nullable(z.string()),
  /** May be promoted automatically: not nofailover, not delayed, not fenced. */
  eligible: z.boolean(),
  /** The agent's last decision, in words. */
  reason: z.string(),
  /** Wall-clock ms when published. */
  at: z.number(),
});

export type MemberState = z.output<typeof memberStateSchema>;

export function parseMemberState(value: unknown): MemberState | null {
  const parsed = z.safeParse(memberStateSchema, value);
  return parsed.success ? parsed.data : null;
}
