import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findBinaries } from '../../src/pg/binaries.js';
import { waitFor } from '../../src/util/wait.js';
import { clusterDir, freePortBlock, nodePid, pgreplJson, psql } from './fixture.js';

/** What the HA tests read from `status --json`. */
export interface HaNode {
  readonly name: string;
  readonly role: string;
  readonly state: string;
  readonly port: number;
  readonly agent: { readonly url: string; readonly healthy: boolean; readonly reason: string | null } | null;
}
export interface HaStatus {
  readonly nodes: HaNode[];
  readonly leader: string | null;
  readonly paused: boolean | null;
}

/** Three nodes under an ANY 1 quorum with an agent each, and an empty `writes` table. */
export async function haCluster(t: TestContext, dcs: string[]): Promise<{ bindir: string; dir: string; port: number }> {
  const { bindir } = await findBinaries();
  const dir = await clusterDir(t);
  const port = await freePortBlock(6);
  await pgreplJson(['up', '--dir', dir, '--replicas', '2', '--sync', '1', '--port', String(port), '--ha', '--api-port', String(port + 3), ...dcs]);
  const url = (await pgreplJson<{ url: string }>(['url', '--dir', dir])).url;
  await psql(bindir, url, 'CREATE TABLE writes (id int PRIMARY KEY)');
  return { bindir, dir, port };
}

export function haStatus(dir: string): Promise<HaStatus> {
  return pgreplJson<HaStatus>(['status', '--dir', dir]);
}

/** Waits until the agents report a leader holding the lease and every other node streaming from it. */
export async function settled(dir: string, what: string): Promise<HaStatus> {
  return waitFor(async () => {
    const s = await haStatus(dir);
    const ok = s.leader !== null && s.nodes.every((n) => (n.name === s.leader ? n.role === 'primary' : n.state === 'streaming'));
    return ok ? s : undefined;
  }, { what, timeoutMs: 60_000, intervalMs: 100 });
}

/** Every acknowledged id is in `writes` on `url`. */
export async function assertAckedAt(bindir: string, url: string, where: string, acked: readonly number[]): Promise<void> {
  assert.ok(acked.length > 0, 'the writer got no commit acknowledged at all');
  const present = await psql(bindir, url, `SELECT count(*) FROM writes WHERE id = ANY('{${acked.join(',')}}'::int[])`);
  assert.equal(Number(present), acked.length, `acknowledged writes missing on ${where}`);
}

/** Every process of a node: its agent, its postmaster and the postmaster's children (backends, walsenders). */
export async function nodeProcesses(dir: string, node: string): Promise<number[]> {
  const agent = Number((await readFile(join(dir, 'agents', `${node}.pid`), 'utf8')).trim());
  const postmaster = await nodePid(dir, node);
  const children = (await readFile(`/proc/${postmaster}/task/${postmaster}/children`, 'utf8').catch(() => '')).trim().split(/\s+/).filter(Boolean).map(Number);
  return [agent, postmaster, ...children];
}

/**
 * Runs `step`; when it fails, the error carries the last lines of every agent's log, which is all
 * there is to tell why a failover did or did not happen once the test's directory is removed.
 */
export async function explainedByAgents<T>(dir: string, step: () => Promise<T>, lines = 40): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const names = (await readdir(join(dir, 'agents')).catch(() => [] as string[])).filter((f) => f.endsWith('.log')).sort();
    const tails = await Promise.all(names.map(async (f) => `--- ${f}\n${(await readFile(join(dir, 'agents', f), 'utf8').catch(() => '')).trimEnd().split('\n').slice(-lines).join('\n')}`));
    (error as Error).message += `\nagents' logs:\n${tails.join('\n')}`;
    throw error;
  }
}
