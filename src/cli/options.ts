import { InvalidArgumentError, type Command } from 'commander';

/** Adds the options every command takes. */
export function withCommonOptions(command: Command): Command {
  return command
    .option('--dir <DIR>', 'cluster directory (default: $PGREPL_DIR, or a per-user data directory)')
    .option('--json', 'machine-readable output on stdout')
    .option('--debug', 'print stack traces with errors');
}

/** Parses a whole number in [min, max] for commander, with an error naming the flag's range. */
export function intOption(min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}
