import { PgreplError, UsageError } from '../errors.js';

/** DIR exists, is not empty, and holds no pgrepl cluster: pgrepl touches nothing in it. */
export class NotAClusterError extends UsageError {}

/** No cluster at DIR for a command that needs one. */
export class NoClusterError extends UsageError {}

/** A node's data directory holds data pgrepl did not create. */
export class ForeignDataError extends PgreplError {}

/** A port the cluster needs is taken by another process. */
export class PortInUseError extends PgreplError {}

/** A command named a node the spec does not have. */
export class UnknownNodeError extends UsageError {}

/** Replication could not be proven within the deadline. */
export class ReplicationNotProvenError extends PgreplError {}

/** A node must be rewound (`pgrepl rejoin`) before it may run. */
export class DivergedError extends PgreplError {}

/** A server runs on files pgrepl was about to remove. */
export class ServerRunsError extends PgreplError {}

/** An operation's preconditions do not hold (a lagging candidate, a healthy primary for failover, ...). */
export class PreconditionError extends PgreplError {}
