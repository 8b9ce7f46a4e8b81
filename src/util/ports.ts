import { createServer } from 'node:net';

/** True when nothing listens on host:port (we can bind it ourselves for a moment). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The first `count` free ports at or above `from`, skipping `taken`. */
export async function findFreePorts(count: number, from: number, taken: ReadonlySet<number> = new Set()): Promise<number[]> {
  const found: number[] = [];
  for (let port = from; found.length < count && port <= 65535; port++) {
    if (!taken.has(port) && (await isPortFree(port))) found.push(port);
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
