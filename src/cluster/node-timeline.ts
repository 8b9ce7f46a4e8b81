import { controlData } from '../pg/controldata.js';
import { newestTimeline } from '../pg/timeline.js';
import type { Cluster } from './context.js';

/** The newest timeline a node's data directory has reached (see newestTimeline); it may run. */
export async function nodeTimeline(cluster: Cluster, name: string): Promise<number> {
  const dataDir = cluster.layout.dataDir(name);
  return newestTimeline(dataDir, (await controlData(cluster.bin, cluster.user, dataDir)).timeline);
}
