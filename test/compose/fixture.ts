import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { waitFor } from '../../src/util/wait.js';
import { freePortBlock, pgrepl } from '../integration/fixture.js';
import { dockerCompose, dockerComposeOk, type Engine } from './engine.js';

/** A generated project on the engine, torn down (`down -v`) and removed after the test even when it fails. */
export interface Project {
  readonly dir: string;
  readonly name: string;
  readonly port: number;
  readonly nodes: readonly string[];
  readonly password: string;
  readonly engine: Engine;
}

export async function newProject(t: TestContext, engine: Engine, replicas: number, extra: readonly string[] = []): Promise<Project> {
  const parent = await mkdtemp(join(tmpdir(), 'pgrepl-e2e-'));
  const dir = join(parent, `p${basename(parent).slice(-6).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`);
  const port = await freePortBlock(replicas + 1);
  t.after(async () => {
    await dockerCompose(engine, dir, ['down', '-v', '--timeout', '5']);
    await rm(parent, { recursive: true, force: true });
  });
  const made = await pgrepl(['compose', '-o', dir, '--replicas', String(replicas), '--port', String(port), '--pg-version', engine.image.split(':')[1]!, ...extra]);
  if (made.code !== 0) throw new Error(`pgrepl compose failed: ${made.stderr}`);
  const password = (await readFile(join(dir, 'secrets', 'postgres_password'), 'utf8')).trim();
  const nodes = Array.from({ length: replicas + 1 }, (_, i) => `pg${i + 1}`);
  return { dir, name: basename(dir), port, nodes, password, engine };
}

export const portOf = (p: Project, node: string): number => p.port + Number(node.slice(2)) - 1;

/** One statement on a node over its published port, as the postgres role; rows as `|`-joined lines. */
export async function sql(p: Project, node: string, text: string): Promise<string> {
  const client = new pg.Client({ host: '127.0.0.1', port: portOf(p, node), user: 'postgres', password: p.password, database: 'postgres', connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query(text);
    return rows.map((r) => Object.values(r as Record<string, unknown>).map((v) => String(v)).join('|')).join('\n');
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const trySql = (p: Project, node: string, text: string): Promise<string | undefined> => sql(p, node, text).catch(() => undefined);

export function compose(p: Project, args: readonly string[], timeoutMs?: number): Promise<string> {
  return dockerComposeOk(p.engine, p.dir, args, timeoutMs);
}

export function cli(p: Project, args: readonly string[]): ReturnType<typeof pgrepl> {
  return pgrepl(['compose', ...args, '-C', p.dir], p.engine.env);
}

export interface StatusJson {
  primary: string;
  nodes: Array<{ node: string; role: string; streaming: boolean; upstream: string | null }>;
}

export async function status(p: Project): Promise<StatusJson> {
  const result = await cli(p, ['status', '--json']);
  if (result.code !== 0) throw new Error(`status exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as StatusJson;
}

/** Until `primary` is the primary and every other node streams from it (pgrepl compose status). */
export async function waitStreaming(p: Project, primary: string, nodes: readonly string[] = p.nodes, timeoutMs = 300_000): Promise<StatusJson> {
  let last: unknown;
  return waitFor(async () => {
    const s = await status(p).catch((error: unknown) => void (last = (error as Error).message));
    last = s ?? last;
    if (!s || s.primary !== primary) return undefined;
    const ok = nodes.every((n) => {
      const row = s.nodes.find((r) => r.node === n);
      return n === primary ? row?.role === 'primary' : row?.role === 'standby' && row.upstream === primary;
    });
    return ok ? s : undefined;
  }, { what: `${primary} primary and ${nodes.filter((n) => n !== primary).join(', ')} streaming from it`, timeoutMs, intervalMs: 500 }).catch(async (error: Error) => {
    const ps = (await dockerCompose(p.engine, p.dir, ['ps', '-a'])).out;
    const tail = (await dockerCompose(p.engine, p.dir, ['logs', '--no-color', '--tail', '15'])).out;
    throw new Error(`${error.message}; last status: ${JSON.stringify(last)}\n${ps}\n${tail}`);
  });
}

/** Writes a row on the primary and waits until every other node has replayed it. */
export async function writeAndReplay(p: Project, primary: string, value: string, nodes: readonly string[] = p.nodes): Promise<void> {
  await sql(p, primary, `INSERT INTO probe VALUES ('${value}')`);
  for (const node of nodes.filter((n) => n !== primary)) {
    await waitFor(async () => ((await trySql(p, node, `SELECT count(*) FROM probe WHERE v = '${value}'`)) === '1' ? true : undefined), {
      what: `${node} to replay ${value}`, timeoutMs: 30_000, intervalMs: 100,
    });
  }
}

export async function logs(p: Project, node: string): Promise<string> {
  return (await dockerCompose(p.engine, p.dir, ['logs', '--no-color', node])).out;
}

/** The container's health as Docker reports it (`healthy`, `unhealthy`, `starting`), or `absent`. */
export async function health(p: Project, node: string): Promise<string> {
  const id = (await compose(p, ['ps', '-q', node])).trim();
  if (!id) return 'absent';
  return new Promise((resolve) => {
    execFile('docker', ['inspect', '--format', '{{.State.Health.Status}}', id], (error, stdout) => resolve(error ? 'unknown' : stdout.trim()));
  });
}

/**
 * Samples every node's pg_is_in_recovery() every `everyMs` over held connections and keeps the
 * moments (send..answer) each node said it was writable: two different nodes writable in
 * overlapping moments would be two writable primaries.
 */
export class WritableProbe {
  readonly writable: Array<{ node: string; from: number; to: number }> = [];
  #stopped = false;
  #loop: Promise<void> | undefined;
  readonly #clients = new Map<string, pg.Client>();

  constructor(private readonly p: Project, private readonly everyMs = 25, private readonly maxMs = 300_000) {}

  start(): void {
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
    await Promise.all([...this.#clients.values()].map((c) => c.end().catch(() => undefined)));
  }

  /** Pairs of overlapping writable moments on different nodes. */
  overlaps(): string[] {
    const found: string[] = [];
    for (const a of this.writable) {
      for (const b of this.writable) {
        if (a.node < b.node && a.from <= b.to && b.from <= a.to) found.push(`${a.node}@${a.from} and ${b.node}@${b.from}`);
      }
    }
    return found;
  }

  async #sample(node: string): Promise<void> {
    let client = this.#clients.get(node);
    if (!client) {
      client = new pg.Client({ host: '127.0.0.1', port: portOf(this.p, node), user: 'postgres', password: this.p.password, database: 'postgres', connectionTimeoutMillis: 500 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        this.#clients.set(node, client);
      } catch {
        await client.end().catch(() => undefined);
        return;
      }
    }
    const from = Date.now();
    try {
      const { rows } = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
      if (!rows[0]!.r) this.writable.push({ node, from, to: Date.now() });
    } catch {
      this.#clients.delete(node);
      await client.end().catch(() => undefined);
    }
  }

  async #run(): Promise<void> {
    const deadline = Date.now() + this.maxMs;
    while (!this.#stopped && Date.now() < deadline) {
      await Promise.all(this.p.nodes.map((n) => this.#sample(n)));
      await new Promise((r) => setTimeout(r, this.everyMs));
    }
  }
}
