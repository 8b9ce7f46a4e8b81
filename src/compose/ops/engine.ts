import { spawn } from 'node:child_process';
import { PgreplError } from '../../errors.js';

/** `docker compose` (v2) or `docker-compose` (v1) failed, or is not installed. */
export class ComposeEngineError extends PgreplError {}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The Compose CLI, as argv (pure): $PGREPL_COMPOSE when set, split on spaces (it names a program, it
 * is not a shell command); else `docker compose` (v2) when it answers, else `docker-compose`, which
 * is Compose v1 (Debian 12's 1.29 runs the generated project) or v2's standalone binary.
 */
export function chooseCompose(configured: string | undefined, v2Answers: boolean): string[] {
  const named = configured?.trim();
  if (named) return named.split(/\s+/);
  return v2Answers ? ['docker', 'compose'] : ['docker-compose'];
}

/** Whether `docker compose version` succeeds (the v2 plugin is installed); false when docker is missing. */
function v2Answers(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('docker', ['compose', 'version'], { stdio: 'ignore', timeout: 20_000 });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}

let found: Promise<string[]> | undefined;

/** The Compose CLI this process runs, found once (see chooseCompose). */
export function composeCommand(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  if (env.PGREPL_COMPOSE?.trim()) return Promise.resolve(chooseCompose(env.PGREPL_COMPOSE, true));
  found ??= v2Answers().then((v2) => chooseCompose(undefined, v2));
  return found;
}

/** The error for a Compose CLI that is not installed: which one, and what to do. */
export function composeMissing(command: readonly string[], configured: boolean): ComposeEngineError {
  return configured
    ? new ComposeEngineError(`${command[0]} (PGREPL_COMPOSE=${command.join(' ')}) is not installed`, { hint: 'set PGREPL_COMPOSE to the Compose command, e.g. docker-compose, or unset it' })
    : new ComposeEngineError('neither `docker compose` (Compose v2) nor `docker-compose` (Compose v1) is installed', {
      hint: 'install Docker with Compose (Debian: apt-get install docker.io docker-compose), or set PGREPL_COMPOSE to the Compose command',
    });
}

/** Runs the Compose CLI in the project directory; never throws on a non-zero exit (the caller decides). */
export async function runCompose(projectDir: string, args: readonly string[], input?: string): Promise<RunResult> {
  const command = await composeCommand();
  const [program, ...base] = command;
  return new Promise((resolve, reject) => {
    const child = spawn(program!, [...base, ...args], { cwd: projectDir, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT' ? composeMissing(command, Boolean(process.env.PGREPL_COMPOSE?.trim())) : error);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** Like runCompose, but a non-zero exit is an error naming the command and Compose's last words. */
export async function compose(projectDir: string, args: readonly string[], input?: string): Promise<string> {
  const result = await runCompose(projectDir, args, input);
  if (result.code !== 0) {
    const last = result.stderr.trim().split('\n').slice(-3).join(' / ');
    throw new ComposeEngineError(`${(await composeCommand()).join(' ')} ${args.join(' ')} failed (exit ${result.code}): ${last}`, {
      hint: 'check `docker compose ps` and `docker compose logs` in the project directory',
    });
  }
  return result.stdout;
}
