import { PgreplError } from '../errors.js';

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

/** Wraps a command action: runs it and turns any error into a printed message and exit code. */
export function action<A extends unknown[]>(run: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const command = args[args.length - 1] as { optsWithGlobals(): CommonOptions };
    try {
      await run(...args);
    } catch (error) {
      reportError(command.optsWithGlobals(), error);
    }
  };
}
