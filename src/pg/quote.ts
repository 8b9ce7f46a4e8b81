import { isIP } from 'node:net';
import { PgreplError } from '../errors.js';
import { CONTROL_CHARS, isHostAddress } from '../util/values.js';

/**
 * The one place values are quoted for PostgreSQL's configuration files (postgresql.conf and its
 * includes, postgresql.auto.conf, pg_hba.conf). Both files are line-based: a line break (or any
 * control character) inside a value would end it and start a new setting or rule whatever the
 * quoting, so such a value is refused here, as a bug upstream (the spec validates every field).
 */
export class UnsafeValueError extends PgreplError {}

function refuseControl(value: string, where: string): void {
  if (CONTROL_CHARS.test(value)) throw new UnsafeValueError(`refusing to write a control character into ${where}: ${JSON.stringify(value)}`);
}

/** A postgresql.conf string: single quotes, a quote doubled, a backslash escaped. */
export function quoteConfValue(value: string): string {
  refuseControl(value, 'a configuration file');
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** pg_hba.conf words with a meaning of their own; a role or database so named must be quoted to mean itself. */
const HBA_KEYWORDS = new Set(['all', 'sameuser', 'samerole', 'samegroup', 'replication']);

/**
 * A pg_hba.conf DATABASE or USER token naming one object: bare when plain, else double-quoted (a
 * keyword, `+role`, `@file`, a comma then mean themselves). A double quote cannot be escaped there.
 */
export function hbaName(value: string): string {
  refuseControl(value, 'pg_hba.conf');
  if (value.includes('"') || value === '') throw new UnsafeValueError(`refusing to write ${JSON.stringify(value)} as a pg_hba.conf name`);
  return /^[a-z_][a-z0-9_]*$/.test(value) && !HBA_KEYWORDS.has(value) ? value : `"${value}"`;
}

/**
 * A pg_hba.conf ADDRESS: an IP address as a one-host CIDR, a network as given (compose: the
 * project's subnet) unless it is a catch-all /0, or a host name. Anything else is refused.
 */
export function hbaAddress(value: string): string {
  refuseControl(value, 'pg_hba.conf');
  const [ip, prefix, extra] = value.split('/');
  if (extra === undefined && prefix !== undefined && isIP(ip!) !== 0 && /^\d{1,3}$/.test(prefix)) {
    const bits = Number(prefix);
    if (bits > 0 && bits <= (isIP(ip!) === 4 ? 32 : 128)) return value;
  }
  if (prefix === undefined && isHostAddress(value)) return isIP(value) === 0 ? value : `${value}/${isIP(value) === 4 ? 32 : 128}`;
  throw new UnsafeValueError(`refusing to write ${JSON.stringify(value)} as a pg_hba.conf address (an IP address, a network narrower than /0, or a host name)`);
}
