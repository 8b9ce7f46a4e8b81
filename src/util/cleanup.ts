/**
 * Work that must be undone even when the command is interrupted: the interrupt handler runs every
 * registered cleanup (each bounded by its caller) before the process exits. A cleanup is removed
 * by calling the function `onInterrupt` returns, once the normal path has done it.
 */
const cleanups = new Set<() => Promise<unknown>>();

export function onInterrupt(cleanup: () => Promise<unknown>): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** Runs every registered cleanup, whatever each does; resolves when all have ended. */
export async function runInterruptCleanups(): Promise<void> {
  const pending = [...cleanups];
  cleanups.clear();
  await Promise.allSettled(pending.map((cleanup) => cleanup()));
}
