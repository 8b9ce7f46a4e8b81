import { PgreplError, UsageError } from '../errors.js';

export interface CommonOptions {
  readonly dir?: string;
  readonly json?: boolean;
  readonly debug?: boolean;
}

function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** Prints a command's result: the JSON document on stdout with --json, else the text. */
export function printResult(options: CommonOptions, json: unknown, text: () => string): void {
  if (options.json) process.stdout.write(`${JSON.stringify(json, replacer, 2)}\n`);
  else {
    const out = text();
    if (out) process.stdout.write(out.endsWith('\n') ? out : `${out}\n`);
  }
}

const SYSTEM_HINTS: Record<string, string> = {
  ELOOP: 'a path pgrepl uses is a symlink, which pgrepl never makes or follows there: move it away and run the command again',
  ENOTDIR: 'a path pgrepl uses as a directory is something else: move it away and run the command again',
  EACCES: 'run pgrepl as the user that created the cluster, or as root',
  EPERM: 'run pgrepl as the user that created the cluster, or as root',
  ENOSPC: 'free some disk space and run the command again',
  EROFS: 'choose a --dir on a writable file system',
};

/** Operating-system errors (permission, disk full, ...) are the user's to fix, not bugs: one line and a hint. */
function fromSystemError(error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (error instanceof PgreplError || !code || !(code in SYSTEM_HINTS)) return error;
  return new PgreplError((error as Error).message, { hint: SYSTEM_HINTS[code]!, cause: error });
}

/**
 * Prints an error as one line (plus a hint line) and sets the exit code. Errors pgrepl did not
 * expect are bugs: they get their stack.
 */
export function reportError(options: CommonOptions, caught: unknown): void {
  const error = fromSystemError(caught);
  const known = error instanceof PgreplError;
  const message = error instanceof Error ? error.message : String(error);
  process.exitCode = known ? error.exitCode : 1;
  if (options.json) {
    const body = { error: { type: known ? error.name : 'InternalError', message, hint: known ? (error.hint ?? null) : null } };
    process.stdout.write(`${JSON.stringify(body)}\n`);
  }
  process.stderr.write(`pgrepl: error: ${message}\n`);
  if (known && error.hint) process.stderr.write(`hint: ${error.hint}\n`);
  if (!known || options.debug) process.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
}

/**
 * A usage error commander found (unknown option, bad value, unknown command), reported as every
 * other error: one line and a hint on stderr, `{"error": ...}` on stdout with --json, exit 2.
 */
export function reportUsageError(commanderMessage: string): void {
  const json = process.argv.slice(2).includes('--json');
  const command = process.argv.slice(2).find((a) => !a.startsWith('-'));
  const hint = `run \`pgrepl ${command && !/unknown command/.test(commanderMessage) ? `${command} ` : ''}--help\` for usage`;
  reportError({ json }, new UsageError(commanderMessage.replace(/^error: /, '').split('\n').join(' '), { hint }));
}

let interrupted = false;
const REPORT_GRACE_MS = 30;

/** Called by the interrupt handler (interrupt.ts), which reports the interrupt and exits. */
export function markInterrupted(): void {
  interrupted = true;
}

/**
 * Wraps a command action: runs it and turns any error into a printed message and exit code. A
 * failure an interrupt caused (a server killed by the same Ctrl-C) must not stand in for it: the
 * report waits REPORT_GRACE_MS, so a signal that arrived with the failure is handled first (the
 * child it killed can be seen dead before the signal reaches this process's handler), and then
 * only the interrupt is reported.
 */
export function action<A extends unknown[]>(run: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const command = args[args.length - 1] as { optsWithGlobals(): CommonOptions };
    try {
      await run(...args);
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, REPORT_GRACE_MS));
      if (!interrupted) reportError(command.optsWithGlobals(), error);
    }
  };
}
