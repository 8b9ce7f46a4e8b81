import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI, type CliResult } from './fixture.js';

/**
 * What the postgres OS account can do to root's pgrepl (any SQL superuser can act as that account,
 * through COPY ... TO PROGRAM): run programs as postgres, on files postgres can write.
 */

export const isRoot = process.geteuid?.() === 0;

/** Runs `argv` as the postgres OS user, to completion. */
export function asPostgres(argv: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('runuser', ['-u', 'postgres', '--', ...argv], { cwd: '/' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`as postgres: ${argv.join(' ')}: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

/**
 * renameat2(RENAME_EXCHANGE) in a tight loop, as postgres, for `seconds`: each pair's paths trade
 * places atomically, so a path that goes through one meets either at any instant. Bounded by its
 * own deadline; the caller also stops it by pid.
 */
const EXCHANGE_LOOP = `
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
end = time.monotonic() + float(sys.argv[1])
paths = [p.encode() for p in sys.argv[2:]]
pairs = list(zip(paths[0::2], paths[1::2]))
n = 0
print("racing", flush=True)
while time.monotonic() < end:
    for a, b in pairs:
        if libc.renameat2(-100, a, -100, b, 2) == 0:
            n += 1
print(n, flush=True)
`;

export interface Racer {
  /** Resolves with the number of swaps made, once the loop has ended. */
  stop(): Promise<number>;
}

/** Two loops (one per CPU of a small machine), each on half of `pairs`. */
export async function exchangeLoops(pairs: ReadonlyArray<readonly [string, string]>, seconds: number): Promise<Racer> {
  const loops = await Promise.all([pairs.filter((_, i) => i % 2 === 0), pairs.filter((_, i) => i % 2 === 1)].filter((p) => p.length > 0).map((p) => exchangeLoop(p, seconds)));
  return { stop: async () => (await Promise.all(loops.map((l) => l.stop()))).reduce((a, b) => a + b, 0) };
}

export async function exchangeLoop(pairs: ReadonlyArray<readonly [string, string]>, seconds: number): Promise<Racer> {
  const args = ['python3', '-c', EXCHANGE_LOOP, String(seconds), ...pairs.flat()];
  const child: ChildProcess = spawn('runuser', ['-u', 'postgres', '--', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('racing')) resolve();
    });
    child.once('exit', () => reject(new Error(`exchange loop ended before it began: ${out}`)));
  });
  return {
    async stop() {
      child.kill('SIGTERM'); // runuser forwards it to python
      await exited;
      return Number(out.split('\n')[1] ?? 0);
    },
  };
}

/** A root-owned directory outside the cluster, 0755, holding `count` files: what root must never touch. */
export async function rootOnlyTree(path: string, count: number): Promise<void> {
  await mkdir(path, { mode: 0o755 });
  await Promise.all(Array.from({ length: count }, (_, i) => writeFile(join(path, `f${i}`), `precious ${i}\n`, { mode: 0o644 })));
}

/** Names and contents of a directory, to compare before and after. */
export async function snapshot(path: string): Promise<string[]> {
  const names = (await readdir(path)).sort();
  return Promise.all(names.map(async (n) => {
    const s = await stat(join(path, n));
    return `${n} ${s.uid}:${s.mode.toString(8)} ${s.isFile() ? await readFile(join(path, n), 'utf8') : '(dir)'}`;
  }));
}

export interface TimedResult extends CliResult {
  readonly timedOut: boolean;
}

/** Runs `pgrepl ARGS`, killing it (SIGKILL) if it has not ended within `ms`: a hang is a result, not a stuck test. */
export function pgreplWithin(args: readonly string[], ms: number): Promise<TimedResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, timedOut });
    });
  });
}

/**
 * `pairs` directories in `dir` (as postgres), each holding `perPair` bait files named as the files in
 * `outside` are, each beside a symlink to `outside`: what the exchange loop swaps.
 */
export async function plantSwappable(dir: string, outside: string, pairs: number, perPair: number): Promise<Array<[string, string]>> {
  const script = 'for p in $(seq 0 $(($3 - 1))); do mkdir "$1/zz_race$p" && ln -s "$2" "$1/zz_link$p" && for i in $(seq $((p * $4)) $((p * $4 + $4 - 1))); do echo bait > "$1/zz_race$p/f$i"; done; done';
  await asPostgres(['sh', '-c', script, 'sh', dir, outside, String(pairs), String(perPair)]);
  return Array.from({ length: pairs }, (_, p) => [join(dir, `zz_race${p}`), join(dir, `zz_link${p}`)]);
}
