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
 * The Compose CLI, as argv: $PGREPL_COMPOSE when set (e.g. `docker-compose` for v1), else
 * `docker compose`. Split on spaces: it names a program, it is not a shell command.
 */
export function composeCommand(env: NodeJS.ProcessEnv = process.env): string[] {
  const configured = env.PGREPL_COMPOSE?.trim();
  return configured ? configured.split(/\s+/) : ['docker', 'compose'];
}

/** Runs the Compose CLI in the project directory; never throws on a non-zero exit (the caller decides). */
export function runCompose(projectDir: string, args: readonly string[], input?: string): Promise<RunResult> {
  const [program, ...base] = composeCommand();
  return new Promise((resolve, reject) => {
    const child = spawn(program!, [...base, ...args], { cwd: projectDir, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT'
        ? new ComposeEngineError(`${program} is not installed`, { hint: 'install Docker with Compose v2, or set PGREPL_COMPOSE=docker-compose for Compose v1' })
        : error);
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
    throw new ComposeEngineError(`${composeCommand().join(' ')} ${args.join(' ')} failed (exit ${result.code}): ${last}`, {
      hint: 'check `docker compose ps` and `docker compose logs` in the project directory',
    });
  }
  return result.stdout;
}
