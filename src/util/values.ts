import { isIP } from 'node:net';

/** Control characters (C0, DEL, C1): never part of a name, a host or a path pgrepl accepts. */
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** An IP address (v4, or v6 without a zone) or a DNS host name (RFC 1123): what a node's `host` may be. */
export function isHostAddress(value: string): boolean {
  return isIP(value) !== 0 ? !value.includes('%') : DNS_NAME.test(value);
}
