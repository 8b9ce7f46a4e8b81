import { join } from 'node:path';
import type { Dcs } from './dcs.js';
import { DcsConfigError } from './dcs.js';
import { openLocalDcs } from './local.js';

export interface OpenDcsOptions {
  readonly clusterDir: string;
  readonly clusterName: string;
  readonly ttlMs: number;
}

/** Opens the DCS a URL names: `local` (default) under the cluster directory. (etcd: being added.) */
export async function openDcs(url: string | undefined, options: OpenDcsOptions): Promise<Dcs> {
  if (url === undefined || url === 'local') return openLocalDcs(join(options.clusterDir, 'dcs'), { ttlMs: options.ttlMs });
  throw new DcsConfigError(`unsupported DCS URL '${url}'`, { hint: 'use local' });
}
