import type { PgBinaries } from './binaries.js';
import { parseLsn, type Lsn } from './lsn.js';
import type { OsUser } from './os-user.js';
import { runProgram } from './process.js';

/** The fields of pg_controldata pgrepl reads from a stopped server. */
export interface ControlData {
  /** `shut down`, `shut down in recovery`, `in production`, `in archive recovery`, ... */
  readonly state: string;
  /** Start of the latest checkpoint record: after a clean shutdown, the shutdown checkpoint. */
  readonly checkpointLsn: Lsn;
  readonly timeline: number;
  readonly systemIdentifier: string;
}

export function parseControlData(text: string): ControlData {
  const fields = new Map(
    text.split('\n').map((line) => {
      const at = line.indexOf(':');
      return [line.slice(0, at).trim(), line.slice(at + 1).trim()] as const;
    }),
  );
  const get = (key: string): string => {
    const value = fields.get(key);
    if (value === undefined) throw new Error(`pg_controldata printed no "${key}"`);
    return value;
  };
  return {
    state: get('Database cluster state'),
    checkpointLsn: parseLsn(get('Latest checkpoint location')),
    timeline: Number(get("Latest checkpoint's TimeLineID")),
    systemIdentifier: get('Database system identifier'),
  };
}

export async function controlData(bin: PgBinaries, user: OsUser, dataDir: string): Promise<ControlData> {
  const { stdout } = await runProgram(bin.path('pg_controldata'), ['-D', dataDir], { user, cwd: dataDir });
  return parseControlData(stdout);
}
