import { DcsConfigError } from './dcs.js';

/**
 * Member names and cluster-wide key names become file names (local) and key path segments (etcd):
 * a conservative alphabet keeps both safe and the two backends interchangeable.
 */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** Key names the backends use for their own records. */
const RESERVED_KEYS = new Set(['leader', 'members']);

export function checkMemberName(name: string): string {
  if (!NAME.test(name)) throw new DcsConfigError(`invalid DCS member name ${JSON.stringify(name)}: use letters, digits, '.', '_' or '-' (at most 63)`);
  return name;
}

export function checkKeyName(key: string): string {
  if (!NAME.test(key) || RESERVED_KEYS.has(key)) {
    throw new DcsConfigError(`invalid DCS key ${JSON.stringify(key)}: use letters, digits, '.', '_' or '-', and not 'leader' or 'members'`);
  }
  return key;
}

/** Leader names follow the member rules (the holder is a member). */
export const checkHolderName = checkMemberName;
