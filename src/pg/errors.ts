import { PgreplError } from '../errors.js';

/** No usable PostgreSQL server binaries on this machine. */
export class BinariesNotFoundError extends PgreplError {}

/** A PostgreSQL program exited non-zero; the tail of its output is in the message. */
export class PgCommandError extends PgreplError {}

/** The OS user that must run PostgreSQL is missing or cannot reach a directory. */
export class OsUserError extends PgreplError {}

/** A server did not start, stop, or accept connections as expected. */
export class ServerError extends PgreplError {}
