import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * A Docker engine with Compose v2 and the postgres image for the Compose tests: found, started with
 * the shared setup script when it is absent (it installs Debian's docker.io, starts dockerd, adds
 * Compose v2 and builds postgres stand-ins; ~10 minutes on a fresh machine, seconds afterwards), or
 * a reason to skip.
 */
export interface Engine {
  /** Environment for `docker compose` and `pgrepl compose` (DOCKER_CONFIG where the v2 plugin lives). */
  readonly env: NodeJS.ProcessEnv;
  readonly image: string;
  /** The Compose CLI as argv: `docker compose` (v2), or `docker-compose` for the Compose v1 case. */
  readonly compose: readonly string[];
}

export const SETUP_SCRIPT = process.env.PGREPL_DOCKER_SETUP ?? '/work/shared/docker/setup.sh';
const PLUGIN_CONFIG = '/var/tmp/pgrepl-docker/dockercfg';

function run(program: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 30_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(program, args, { env, timeout: timeoutMs, maxBuffer: 16 * 2 ** 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

async function composeEnv(): Promise<NodeJS.ProcessEnv | undefined> {
  if ((await run('docker', ['compose', 'version'])).code === 0) return process.env;
  const env = { ...process.env, DOCKER_CONFIG: PLUGIN_CONFIG };
  return (await run('docker', ['compose', 'version'], env)).code === 0 ? env : undefined;
}

/** The engine, or why the Compose tests skip. Runs the setup script once when the engine is missing and it can. */
export async function findEngine(image = 'postgres:17'): Promise<Engine | string> {
  const ready = async (): Promise<boolean> => (await run('docker', ['info'])).code === 0 && (await composeEnv()) !== undefined
    && (await run('docker', ['image', 'inspect', image])).code === 0;
  if (!(await ready())) {
    if (process.env.PGREPL_NO_DOCKER_SETUP || process.getuid?.() !== 0 || !existsSync(SETUP_SCRIPT)) {
      return `no Docker engine with Compose v2 and image ${image} (set up one with ${SETUP_SCRIPT} as root)`;
    }
    process.stderr.write(`# starting a Docker engine with ${SETUP_SCRIPT} (about 10 minutes the first time)\n`);
    const setup = await run('bash', [SETUP_SCRIPT], process.env, 30 * 60_000);
    if (setup.code !== 0 || !(await ready())) return `${SETUP_SCRIPT} did not give an engine with image ${image}: ${setup.out.trim().split('\n').slice(-3).join(' / ')}`;
  }
  return { env: (await composeEnv())!, image, compose: ['docker', 'compose'] };
}

/**
 * The same engine driven by Compose v1 (`docker-compose` 1.x, Debian 12's 1.29; `npm run
 * test:compose` installs it when missing), as a user without Compose v2 has it: an environment
 * without the DOCKER_CONFIG where the v2 plugin lives. Or why the v1 case skips.
 */
export async function withComposeV1(engine: Engine): Promise<Engine | string> {
  const version = await run('docker-compose', ['version', '--short']);
  if (version.code !== 0) return 'no Compose v1: docker-compose is not installed (Debian: apt-get install docker-compose)';
  if (!/^1\./.test(version.out.trim())) return `no Compose v1: docker-compose is version ${version.out.trim()}`;
  const env = { ...engine.env };
  delete env.DOCKER_CONFIG;
  // Where v2 is installed system-wide pgrepl would pick it: name v1 (the fallback is then not what runs).
  if ((await run('docker', ['compose', 'version'], env)).code === 0) env.PGREPL_COMPOSE = 'docker-compose';
  return { env, image: engine.image, compose: ['docker-compose'] };
}

/** `docker compose ARGS` (or the engine's other Compose CLI) in a project directory. */
export function dockerCompose(engine: Engine, dir: string, args: readonly string[], timeoutMs = 120_000): Promise<{ code: number; out: string }> {
  const [program, ...base] = engine.compose;
  return new Promise((resolve) => {
    execFile(program!, [...base, ...args], { cwd: dir, env: engine.env, timeout: timeoutMs, maxBuffer: 64 * 2 ** 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

export async function dockerComposeOk(engine: Engine, dir: string, args: readonly string[], timeoutMs?: number): Promise<string> {
  const result = await dockerCompose(engine, dir, args, timeoutMs);
  if (result.code !== 0) throw new Error(`${engine.compose.join(' ')} ${args.join(' ')} exited ${result.code}: ${result.out}`);
  return result.out;
}

export { run as runProgram };
