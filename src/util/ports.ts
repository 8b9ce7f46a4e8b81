import { createServer } from 'node:net';

/** True when nothing listens on host:port (we can bind it ourselves for a moment). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * True when another socket holds host:port (or binding it is not allowed). An address this machine
 * does not have, or a name that does not resolve, is not "taken": nothing can be checked from here
 * (a server of this machine could not bind it either, and says so when it starts).
 */
export function isPortTaken(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRINUSE' || error.code === 'EACCES'));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(false)));
  });
}

/**
 * The first of `hosts` (the addresses servers will bind) on which `port` is taken, else null. A
 * port free on 127.0.0.1 may be taken on 10.0.0.5 or 127.0.0.2, and the other way round.
 */
export async function busyHost(port: number, hosts: readonly string[]): Promise<string | null> {
  for (const host of new Set(hosts)) if (await isPortTaken(port, host)) return host;
  return null;
}

/** The first `count` ports at or above `from` free on every one of `hosts`, skipping `taken`. */
export async function findFreePorts(count: number, from: number, taken: ReadonlySet<number> = new Set(), hosts: readonly string[] = ['127.0.0.1']): Promise<number[]> {
  const found: number[] = [];
  for (let port = from; found.length < count && port <= 65535; port++) {
    if (!taken.has(port) && (await busyHost(port, hosts)) === null) found.push(port);
  }
  return found;
}

/** The first port P at or above `from` such that P..P+count-1 are all free. */
export async function findFreeBlock(count: number, from: number): Promise<number> {
  for (let base = from; base + count - 1 <= 65535; base++) {
    let free = true;
    for (let p = base; p < base + count && free; p++) free = await isPortFree(p);
    if (free) return base;
  }
  throw new Error(`no ${count} consecutive free ports at or above ${from}`);
}
