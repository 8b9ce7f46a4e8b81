import type { ClusterMetrics } from './metrics.js';
import type { ConsoleState } from './state.js';
import type { ClusterOps } from './types.js';

export interface SamplerOptions {
  readonly ops: ClusterOps;
  readonly state: ConsoleState;
  readonly metrics: ClusterMetrics;
  readonly intervalMs: number;
  readonly slotCapBytes: () => number;
  readonly now?: () => number;
}

export interface Sampler {
  /** Resolves once the first sample is in (or failed), so the first page load has data. */
  readonly first: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Samples the cluster every `intervalMs` through the same function `pgrepl status --json` uses.
 * Samples never overlap: a slow one (a server not answering) delays the next rather than piling up.
 */
export function startSampler({ ops, state, metrics, intervalMs, slotCapBytes, now = Date.now }: SamplerOptions): Sampler {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();

  const sampleOnce = async (): Promise<void> => {
    const at = now();
    try {
      const status = await ops.status();
      metrics.update(status);
      metrics.samples.inc();
      state.record({ at, status, slotCapBytes: slotCapBytes() });
    } catch (error) {
      metrics.sampleFailures.inc();
      const message = `cannot read the cluster: ${(error as Error).message}`;
      if (state.lastEvent?.message !== message) state.log({ at, kind: 'sample-failed', message });
    } finally {
      metrics.sampleSeconds.set((now() - at) / 1000);
    }
  };

  const tick = (): void => {
    const started = now();
    running = sampleOnce().then(() => {
      if (!stopped) timer = setTimeout(tick, Math.max(0, intervalMs - (now() - started)));
    });
  };

  tick();
  return {
    first: running,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
