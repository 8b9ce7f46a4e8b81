import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * How one agent proves to another that a POST comes from an agent of the same cluster (Patroni
 * guards its REST API's unsafe endpoints the same way, with `restapi.authentication`; its GETs stay
 * open for load balancers, as ours do).
 *
 * An HMAC-SHA256 of the request under the agents' API key, not the key itself as a bearer token:
 * the API is plain HTTP today, and agents will talk across machines, so whatever crosses the wire
 * can be read there. A bearer token read once would let its reader hold every replica back from
 * every failover for good; a signature read once is worth nothing more. The signature covers the
 * method, the path, the node it is sent to (one node's request cannot be played to another), a
 * wall-clock timestamp and a random nonce besides the body. A request older or newer than the
 * window is refused (a captured request held back and delivered late could otherwise delay a
 * failover), and one already seen within the window is refused as a replay, so each signed request
 * acts at most once. The window is the lease TTL: what a failsafe grant promises lasts that long,
 * and agents on several machines must keep their clocks within it of each other (NTP does far
 * better); a skewed agent is refused, logged, and its primary fences itself: it fails safe.
 */
export const AUTH_SCHEME = 'PGREPL-HMAC-SHA256';

export interface SignedRequest {
  readonly method: string;
  readonly path: string;
  /** The name of the node whose agent receives it. */
  readonly to: string;
  readonly body: string;
}

/** Why a request was refused: each is logged once by the agent that refuses it. */
export type AuthCause = 'no credentials' | 'malformed credentials' | 'wrong signature' | 'outside the time window' | 'replayed';

export type AuthVerdict = { readonly ok: true } | { readonly ok: false; readonly status: 401 | 403; readonly cause: AuthCause };

function mac(key: Buffer, request: SignedRequest, at: number, nonce: string): Buffer {
  return createHmac('sha256', key).update(`${request.method}\n${request.path}\n${request.to}\n${at}\n${nonce}\n`).update(request.body).digest();
}

/** The Authorization header value for `request`, signed now. */
export function signRequest(key: Buffer, request: SignedRequest, now = Date.now(), nonce = randomBytes(16).toString('hex')): string {
  return `${AUTH_SCHEME} t=${now},n=${nonce},s=${mac(key, request, now, nonce).toString('hex')}`;
}

interface Credentials {
  readonly at: number;
  readonly nonce: string;
  readonly signature: Buffer;
}

function parse(header: string): Credentials | null {
  const match = /^PGREPL-HMAC-SHA256 t=(\d{1,16}),n=([0-9a-f]{32}),s=([0-9a-f]{64})$/.exec(header.trim());
  if (!match) return null;
  return { at: Number(match[1]), nonce: match[2]!, signature: Buffer.from(match[3]!, 'hex') };
}

/**
 * Nonces of accepted requests, each kept until its timestamp leaves the window (after that the
 * window itself refuses it). Only requests with a valid signature get here, so only the agents
 * themselves fill it: a few entries per peer per loop wait.
 */
export class ReplayGuard {
  readonly #seen = new Map<string, number>();

  constructor(readonly windowMs: number) {}

  /** Records `nonce`; false when it was already seen within the window. */
  admit(nonce: string, at: number, now: number): boolean {
    for (const [n, expires] of this.#seen) if (expires < now) this.#seen.delete(n);
    if (this.#seen.has(nonce)) return false;
    this.#seen.set(nonce, at + this.windowMs);
    return true;
  }
}

/** Checks `header` (the request's Authorization) against `key`, in constant time for the signature. */
export function verifyRequest(key: Buffer, request: SignedRequest, header: string | undefined, guard: ReplayGuard, now = Date.now()): AuthVerdict {
  if (header === undefined || header.trim() === '') return { ok: false, status: 401, cause: 'no credentials' };
  const credentials = parse(header);
  if (credentials === null) return { ok: false, status: 401, cause: 'malformed credentials' };
  if (!timingSafeEqual(mac(key, request, credentials.at, credentials.nonce), credentials.signature)) return { ok: false, status: 403, cause: 'wrong signature' };
  if (Math.abs(now - credentials.at) > guard.windowMs) return { ok: false, status: 403, cause: 'outside the time window' };
  if (!guard.admit(credentials.nonce, credentials.at, now)) return { ok: false, status: 403, cause: 'replayed' };
  return { ok: true };
}

/** What an operator should check for each cause, for the agent's log. */
export function causeHint(cause: AuthCause): string {
  switch (cause) {
    case 'no credentials':
    case 'malformed credentials':
      return 'not sent by a pgrepl agent';
    case 'wrong signature':
      return 'the sender has another agent API key (every machine needs the same DIR/secrets/agent-api.key) or is not an agent';
    case 'outside the time window':
      return "the machines' clocks differ by more than the lease TTL (check NTP), or the request was held back";
    case 'replayed':
      return 'a request already accepted was sent again';
  }
}
