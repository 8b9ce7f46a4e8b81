import { Agent, request } from 'node:http';
import { DcsUnavailableError } from './dcs.js';

/**
 * A client for etcd's v3 JSON gateway (the HTTP face every etcd >= 3.3 serves on its client port,
 * the API Patroni's etcd3 backend uses): POST /v3/kv/range, /v3/kv/txn, /v3/lease/grant, ...
 * with base64 keys and values and int64s as decimal strings.
 *
 * Why not the `etcd3` npm client: it speaks gRPC, and measured on this machine it bundles to 724 KB
 * (28 packages, @grpc/grpc-js and protobufjs among them), takes 400-850 ms to load and ~100 ms
 * more for its first request, and once bundled does not even run (its proto loader reads .proto
 * files from beside node_modules at run time). This file is a few KB over node:http, loads in
 * ~10 ms, and the agent's calls (txn, range, lease grant/keepalive/revoke) are all unary here.
 */

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** An error etcd itself returned (as opposed to not answering): its gRPC code and message. */
export class EtcdError extends Error {
  constructor(
    readonly grpcCode: number,
    message: string,
  ) {
    super(message);
  }
}

const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;

/** The request surely never reached etcd (so retrying it elsewhere cannot apply it twice). */
function neverSent(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL';
}

export function formatEndpoint(e: Endpoint): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

export class EtcdGateway {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });
  /** The endpoint that answered last: tried first next time. */
  private current = 0;

  constructor(
    readonly endpoints: readonly Endpoint[],
    /** Longest a whole call may take, over every endpoint tried. */
    readonly timeoutMs: number,
  ) {}

  /**
   * POSTs `body` to `path`, trying each endpoint in turn from the last one that answered, within
   * `timeoutMs` in all. Only an `idempotent` call is retried after a request that may have reached
   * etcd (a timeout, a reset); any other is retried only when it surely never left (connection
   * refused), so a compare-and-swap is never applied twice unknowingly. Failing that, it throws
   * DcsUnavailableError; an answer from etcd that is an error is thrown as EtcdError.
   */
  async call<T>(path: string, body: object, idempotent = true): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    const perAttempt = Math.ceil(this.timeoutMs / this.endpoints.length);
    const failures: string[] = [];
    const first = this.current;
    for (let tried = 0; tried < this.endpoints.length; tried++) {
      const index = (first + tried) % this.endpoints.length;
      const endpoint = this.endpoints[index]!;
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      try {
        const result = await this.post<T>(endpoint, path, body, Math.min(remaining, perAttempt));
        this.current = index;
        return result;
      } catch (error) {
        // A member without a quorum ("no leader", "request timed out") is as good as down: try another.
        if (error instanceof EtcdError && error.grpcCode !== GRPC_UNAVAILABLE && error.grpcCode !== GRPC_DEADLINE_EXCEEDED) throw error;
        failures.push(`${formatEndpoint(endpoint)}: ${(error as Error).message}`);
        this.current = (index + 1) % this.endpoints.length;
        if (!idempotent && !neverSent(error)) break;
      }
    }
    throw new DcsUnavailableError(`etcd did not answer ${path} within ${this.timeoutMs} ms (${failures.join('; ') || 'no time left'})`, {
      hint: 'check that the etcd endpoints in --dcs are up and reachable',
    });
  }

  private post<T>(endpoint: Endpoint, path: string, body: object, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const payload = JSON.stringify(body);
      const req = request({
        host: endpoint.host,
        port: endpoint.port,
        path,
        method: 'POST',
        agent: this.agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      });
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer in ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
      req.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          clearTimeout(timer);
          try {
            resolve(parseAnswer<T>(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
          } catch (error) {
            reject(error);
          }
        });
      });
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function parseAnswer<T>(status: number, text: string): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${status}, not JSON: ${text.slice(0, 120)}`);
  }
  const o = parsed as { error?: string | { grpc_code?: number; message?: string }; code?: number; message?: string };
  // Unary errors: {error, code, message}; a streaming call (keepalive) wraps them: {error: {grpc_code, message}}.
  if (status !== 200 || o.error !== undefined) {
    if (typeof o.error === 'object') throw new EtcdError(o.error.grpc_code ?? 2, o.error.message ?? 'unknown error');
    if (status >= 500 && o.code === undefined) throw new Error(`HTTP ${status}`);
    throw new EtcdError(o.code ?? 2, o.message ?? o.error ?? `HTTP ${status}`);
  }
  return parsed as T;
}

export const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
export const unb64 = (text: string | undefined): string => Buffer.from(text ?? '', 'base64').toString('utf8');

/** The range_end that makes a range request cover every key starting with `prefix`. */
export function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  bytes[bytes.length - 1] = bytes[bytes.length - 1]! + 1;
  return bytes.toString('base64');
}
