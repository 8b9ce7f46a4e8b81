/**
 * A WAL position. PostgreSQL prints it as two hex halves ("16/B374D848"); we parse it once, at the
 * edge, into a bigint so positions compare and subtract as numbers.
 */
export type Lsn = bigint & { readonly __brand: 'Lsn' };

export function parseLsn(text: string): Lsn {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  if (!match) throw new Error(`not a WAL position: ${JSON.stringify(text)}`);
  return ((BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`)) as Lsn;
}

export function parseLsnOrNull(text: string | null | undefined): Lsn | null {
  return text === null || text === undefined ? null : parseLsn(text);
}

export function formatLsn(lsn: Lsn): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** Bytes from `behind` up to `ahead`, never negative (a replica can briefly report past a stale primary read). */
export function lsnDistance(ahead: Lsn, behind: Lsn): number {
  const diff = ahead - behind;
  return diff > 0n ? Number(diff) : 0;
}
