import { join } from 'node:path';
import { DcsConfigError, type Dcs } from './dcs.js';
import type { Endpoint } from './etcd-gateway.js';

/** What `--dcs` names, parsed. */
export type DcsLocation = { readonly kind: 'local' } | { readonly kind: 'etcd'; readonly endpoints: readonly Endpoint[] };

export interface OpenDcsOptions {
  /** The cluster directory; the local backend keeps its files in `<clusterDir>/dcs`. */
  readonly clusterDir: string;
  /** Names the cluster's keys in a shared etcd (`/pgrepl/<clusterName>/...`). */
  readonly clusterName: string;
  readonly ttlMs: number;
  /** Longest one DCS call may take before DcsUnavailableError (default: 500 ms local, 1000 ms etcd). */
  readonly timeoutMs?: number;
}

const ETCD_DEFAULT_PORT = 2379;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const USAGE = "use 'local' or 'etcd://HOST:PORT[,HOST:PORT...]'";

function bad(url: string, problem: string): DcsConfigError {
  return new DcsConfigError(`invalid --dcs ${JSON.stringify(url)}: ${problem}`, { hint: USAGE });
}

function parseEndpoint(url: string, text: string): Endpoint {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(text);
  if (!m) return badEndpoint(url, text);
  const host = m[1] ?? m[2]!;
  if (m[2] !== undefined && !HOST.test(host)) return badEndpoint(url, text);
  const port = m[3] === undefined ? ETCD_DEFAULT_PORT : Number(m[3]);
  if (port < 1 || port > 65535) throw bad(url, `port ${m[3]} of ${JSON.stringify(text)} is not between 1 and 65535`);
  return { host, port };
}

function badEndpoint(url: string, text: string): never {
  throw bad(url, text === '' ? 'an empty endpoint (a stray comma?)' : `${JSON.stringify(text)} is not HOST[:PORT]`);
}

/** Parses a `--dcs` value: undefined, `local` or `local:` → local; `etcd://h1:2379,h2:2379` → etcd. Pure. */
export function parseDcsUrl(url: string | undefined): DcsLocation {
  if (url === undefined || url === 'local' || url === 'local:') return { kind: 'local' };
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/.exec(url);
  if (!scheme) throw bad(url, 'not a DCS URL');
  if (scheme[1]!.toLowerCase() !== 'etcd') throw bad(url, `unsupported DCS ${JSON.stringify(scheme[1])}`);
  const rest = scheme[2]!.replace(/\/$/, '');
  if (/[/?#@]/.test(rest)) throw bad(url, 'paths, queries and credentials are not supported: give only HOST:PORT endpoints');
  if (rest === '') throw bad(url, 'no endpoint given');
  const endpoints = rest.split(',').map((part) => parseEndpoint(url, part.trim()));
  return { kind: 'etcd', endpoints };
}

/**
 * Opens the DCS `url` names. The etcd backend is loaded only when asked for. Opening does not
 * contact etcd: the first call does, and fails with DcsUnavailableError if it must.
 */
export async function openDcs(url: string | undefined, options: OpenDcsOptions): Promise<Dcs> {
  const location = parseDcsUrl(url);
  if (!Number.isSafeInteger(options.ttlMs) || options.ttlMs <= 0) throw new DcsConfigError(`invalid DCS TTL ${options.ttlMs} ms: give a positive whole number of ms`);
  if (location.kind === 'local') {
    const { openLocalDcs } = await import('./local.js');
    return openLocalDcs(join(options.clusterDir, 'dcs'), { ttlMs: options.ttlMs, timeoutMs: options.timeoutMs });
  }
  const { EtcdDcs } = await import('./etcd.js');
  return new EtcdDcs({ endpoints: location.endpoints, clusterName: options.clusterName, ttlMs: options.ttlMs, timeoutMs: options.timeoutMs });
}
