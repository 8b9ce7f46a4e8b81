import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { dockerCompose, runProgram, type Engine } from '../test/compose/engine.js';

/** A project directory and the Compose project name the engine knows it by (its basename). */
export interface Scratch {
  readonly dir: string;
  readonly name: string;
}

/** Teardowns of the projects that exist now, run on SIGINT/SIGTERM too. */
const live = new Map<string, () => Promise<void>>();
/** Projects whose teardown left something on the engine (reported at the end of the scenario). */
export const leftBehind: string[] = [];

const KINDS = { container: ['ps', '-aq'], volume: ['volume', 'ls', '-q'], network: ['network', 'ls', '-q'] } as const;
const REMOVE = { container: ['rm', '-f'], volume: ['volume', 'rm', '-f'], network: ['network', 'rm'] } as const;

/** What the engine still holds of project `name`, by Compose's project label: `kind id` lines. */
async function leftovers(engine: Engine, name: string): Promise<Array<[keyof typeof KINDS, string]>> {
  const found: Array<[keyof typeof KINDS, string]> = [];
  for (const kind of Object.keys(KINDS) as Array<keyof typeof KINDS>) {
    const listed = await runProgram('docker', [...KINDS[kind], '--filter', `label=com.docker.compose.project=${name}`], engine.env);
    for (const id of listed.out.split('\n').map((l) => l.trim()).filter(Boolean)) found.push([kind, id]);
  }
  return found;
}

/**
 * `down -v`, then removes by label whatever that left (a `down` that timed out on a loaded engine),
 * then the directory. Never throws: a project it could not remove is printed with the command that
 * removes it, and kept in leftBehind.
 */
async function teardown(engine: Engine, scratch: Scratch, parent: string): Promise<void> {
  const down = await dockerCompose(engine, scratch.dir, ['down', '-v', '--timeout', '5'], 180_000);
  let left = await leftovers(engine, scratch.name);
  for (const kind of ['container', 'volume', 'network'] as const) {
    const ids = left.filter(([k]) => k === kind).map(([, id]) => id);
    if (ids.length) await runProgram('docker', [...REMOVE[kind], ...ids], engine.env, 120_000);
  }
  if (left.length) left = await leftovers(engine, scratch.name);
  await rm(parent, { recursive: true, force: true });
  if (left.length) {
    leftBehind.push(scratch.name);
    process.stderr.write(`# compose bench: project ${scratch.name} left on the engine (${left.map(([k, id]) => `${k} ${id}`).join(', ')}); `
      + `docker compose down exited ${down.code}: ${down.out.trim().split('\n').slice(-2).join(' / ')}\n`
      + `#   remove it with: docker rm -f $(docker ps -aq --filter label=com.docker.compose.project=${scratch.name}); `
      + `docker volume rm $(docker volume ls -q --filter label=com.docker.compose.project=${scratch.name})\n`);
  }
}

/**
 * A project directory (not created: pgrepl compose wants a new one) with a name no earlier run used (a fixed name would reuse the volumes a
 * killed run left, and the measurement would no longer start on empty volumes); torn down after
 * `use`, also when it throws, and on SIGINT/SIGTERM (see onSignalTearDown).
 */
export async function withScratch<T>(engine: Engine, kind: string, use: (scratch: Scratch) => Promise<T>): Promise<T> {
  const parent = await mkdtemp(join(tmpdir(), `pgrepl-bench-${kind}-`));
  const name = `pgreplbench${kind}${basename(parent).slice(-6).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`;
  const scratch = { dir: join(parent, name), name };
  const done = (): Promise<void> => teardown(engine, scratch, parent);
  live.set(name, done);
  try {
    return await use(scratch);
  } finally {
    live.delete(name);
    await done();
  }
}

/**
 * Tears down every live project before the process ends on SIGINT, SIGTERM or SIGHUP (a bench
 * stopped by hand must not leave containers that load the machine); a second signal exits at once.
 * Returns the function that removes the handlers.
 */
export function onSignalTearDown(): () => void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write(`\n# compose bench: ${signal}: tearing down ${[...live.keys()].join(', ') || 'nothing'}\n`);
    void Promise.allSettled([...live.values()].map((down) => down())).then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}
