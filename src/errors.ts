/**
 * Base of every error pgrepl expects. The CLI prints `message` and `hint` on one line each and exits
 * non-zero; anything that is not a PgreplError is a bug and is printed with its stack.
 */
export class PgreplError extends Error {
  /** What the user can do about it; printed after the message. */
  readonly hint: string | undefined;
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number = 1;

  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** A user-supplied value (flag, spec field, argument) is wrong. */
export class UsageError extends PgreplError {
  override readonly exitCode = 2;
}

/** Waiting for a condition ran past its deadline. */
export class TimeoutError extends PgreplError {}
