import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import { waitFor } from '../../src/util/wait.js';
import { startPgrepl } from './fixture.js';

export interface ConsoleProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly token: string;
  /** What it printed on stderr so far. */
  stderr(): string;
}

/**
 * Starts `pgrepl console --json` on a free port and reads its address and token from stdout;
 * stopped (SIGTERM, then SIGKILL) after the test even when it fails.
 */
export async function startConsole(t: TestContext, dir: string, extra: readonly string[] = []): Promise<ConsoleProcess> {
  const child = startPgrepl(['console', '--dir', dir, '--port', '0', '--json', ...extra]);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  });
  const started = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`pgrepl console exited ${child.exitCode}: ${stderr}`);
      try {
        return JSON.parse(stdout) as { url: string; token: string };
      } catch {
        return undefined;
      }
    },
    { what: 'pgrepl console to print its address', timeoutMs: 20_000, intervalMs: 20 },
  );
  return { child, url: started.url, token: started.token, stderr: () => stderr };
}
