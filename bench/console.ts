import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { findBinaries } from '../src/pg/binaries.js';
import { resolveOsUser } from '../src/pg/os-user.js';
import { CHROMIUM, noBrowser } from '../test/integration/browser.js';
import { CLI, median, withCluster } from './util.js';

/** BENCH_CONSOLE_MINUTES: how long the console samples before its memory is read (the 15 by default). */
const MINUTES = Number(process.env.BENCH_CONSOLE_MINUTES ?? 15);
/**
 * The TPS ratio comes from one pgbench run whose console and page alternate on and off every
 * BENCH_CONSOLE_PHASE_SECONDS (default 10), in BENCH_CONSOLE_PAIRS (default 24) ABBA-ordered pairs
 * after one warm-up pair: short alternation cancels the drift of whatever else loads the machine.
 */
const PAIRS = Number(process.env.BENCH_CONSOLE_PAIRS ?? 24);
const PHASE = Number(process.env.BENCH_CONSOLE_PHASE_SECONDS ?? 10);
/**
 * pgbench's workload: tpcb-like writes (replicated to both replicas), prepared. Its commits do not
 * wait for the WAL flush (synchronous_commit=off for its sessions only): waiting on fsync left the
 * cores idle part of the time, TPS bound by the disk and blind to CPU; without it both cores are
 * busy and every CPU-ms the console takes shows.
 */
const PGBENCH = ['-n', '-M', 'prepared', '-c', '4', '-j', '2'];
const PGBENCH_OPTIONS = '-c synchronous_commit=off';

function pgbench(bindir: string, port: number, passfile: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(bindir, 'pgbench'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', ...args, 'postgres'], {
      env: { PATH: process.env.PATH, PGPASSFILE: passfile }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`pgbench exited ${code}: ${out.slice(-500)}`))));
  });
}

/** One second of pgbench: its tps and whether the console and page were running. */
interface Interval {
  readonly tps: number;
  readonly on: boolean;
  /** The first second of a phase (the switch happened in it) or of the warm-up pair: not counted. */
  readonly counted: boolean;
}

/** Whether phase `p` runs the console: pairs alternate off-on, on-off (ABBA), so neither always comes first. */
const phaseOn = (p: number): boolean => (Math.floor(p / 2) % 2 === 0 ? p % 2 === 1 : p % 2 === 0);

/**
 * Runs pgbench once with a progress line every second and switches the console and page on or off
 * (`toggle`) right after the line that ends each phase. `onSwitch` is called at every switch with
 * the state ending, so the caller can account CPU to on-phases.
 */
function alternate(bindir: string, port: number, passfile: string, toggle: (on: boolean) => void, onSwitch: (endingOn: boolean) => void): Promise<Interval[]> {
  const phases = 2 * (PAIRS + 1);
  return new Promise((resolve, reject) => {
    const args = [...PGBENCH, '-P', '1', '-T', String(phases * PHASE + 2)];
    const child = spawn(join(bindir, 'pgbench'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', ...args, 'postgres'], {
      env: { PATH: process.env.PATH, PGPASSFILE: passfile, PGOPTIONS: PGBENCH_OPTIONS }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    const intervals: Interval[] = [];
    let rest = '';
    let tail = '';
    toggle(phaseOn(0));
    child.stderr.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-500);
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        const match = /^progress: [\d.]+ s, ([\d.]+) tps/.exec(line);
        if (!match || intervals.length >= phases * PHASE) continue;
        const phase = Math.floor(intervals.length / PHASE);
        intervals.push({ tps: Number(match[1]), on: phaseOn(phase), counted: phase >= 2 && intervals.length % PHASE !== 0 });
        if (intervals.length % PHASE === 0 && intervals.length < phases * PHASE) {
          onSwitch(phaseOn(phase));
          toggle(phaseOn(phase + 1));
        }
      }
    });
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`pgbench exited ${code}: ${tail}`));
      else if (intervals.length < phases * PHASE) reject(new Error(`pgbench reported ${intervals.length} of ${phases * PHASE} seconds: ${tail}`));
      else resolve(intervals);
    });
  });
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const quantile = (xs: readonly number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

/** Each counted pair's on/off ratio of mean tps. */
function pairRatios(intervals: readonly Interval[]): number[] {
  const ratios: number[] = [];
  for (let pair = 1; pair <= PAIRS; pair++) {
    const inPair = intervals.slice(pair * 2 * PHASE, (pair + 1) * 2 * PHASE).filter((i) => i.counted);
    ratios.push(mean(inPair.filter((i) => i.on).map((i) => i.tps)) / mean(inPair.filter((i) => !i.on).map((i) => i.tps)));
  }
  return ratios;
}

/** `pgrepl console` on a free port; its address once it printed it. */
async function startConsole(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, 'console', '--dir', dir, '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  for await (const chunk of child.stdout!) {
    out += (chunk as Buffer).toString();
    try {
      return { child, url: (JSON.parse(out) as { url: string }).url };
    } catch {
      /* not all of it yet */
    }
  }
  throw new Error(`pgrepl console exited before printing its address: ${out}`);
}

/** CPU time a process has used, in seconds (user + system, from /proc). */
async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ') x')).split(') ')[1]!.split(' ');
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100;
}

/** The processes whose command line names `needle` (the browser's profile dir: its own processes only). */
async function pidsWith(needle: string): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((p) => /^\d+$/.test(p));
  const named = await Promise.all(pids.map(async (p) => ((await readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '')).includes(needle) ? Number(p) : 0)));
  return named.filter((p) => p > 0);
}

const rssMb = async (pid: number): Promise<number> =>
  Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** Opens the page in a fresh headless Chromium; ms from navigation to every node's card drawn. */
async function openPage(url: string, nodes: number): Promise<{ context: BrowserContext; profile: string; firstLoadMs: number }> {
  const profile = await mkdtemp(join(tmpdir(), 'pgrepl-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = await context.newPage();
  const started = performance.now();
  await page.goto(url);
  await page.waitForFunction((n) => document.querySelectorAll('#cards article').length === n, nodes, { timeout: 30_000 });
  return { context, profile, firstLoadMs: performance.now() - started };
}

/** The server backends serving the console's held sessions (application_name pgrepl) on each node. */
async function consoleBackends(bindir: string, ports: readonly number[], passfile: string): Promise<number[]> {
  const sql = "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgrepl' AND backend_type = 'client backend'";
  const lists = await Promise.all(ports.map((p) => new Promise<number[]>((resolve) => {
    const child = spawn(join(bindir, 'psql'), ['-h', '127.0.0.1', '-p', String(p), '-U', 'postgres', '-Atc', sql, 'postgres'], {
      env: { PATH: process.env.PATH, PGPASSFILE: passfile }, stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', () => resolve(out.split('\n').filter((l) => /^\d+$/.test(l)).map(Number)));
  })));
  return lists.flat();
}

/** CPU seconds of each group of processes, read synchronously (at a phase switch, at once). */
function cpuNow(groups: Record<string, readonly number[]>): Record<string, number> {
  const read = (pid: number): number => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return 0;
    }
  };
  return Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, pids.reduce((sum, pid) => sum + read(pid), 0)]));
}

const pct = (cpuSeconds: number, seconds: number): string => `${((100 * cpuSeconds) / seconds).toFixed(2)}%`;

interface Figures {
  readonly ratios: readonly number[];
  readonly tpsOn: readonly number[];
  readonly tpsOff: readonly number[];
  /** CPU seconds of the console, its backends and the browser during the counted on-phases, and while sampling the idle cluster. */
  readonly onCpu: Readonly<Record<string, number>>;
  readonly onSeconds: number;
  readonly idle: Readonly<Record<string, number>>;
  readonly soakSeconds: number;
  readonly firstLoadMs: number;
  readonly minutes: number;
  readonly samples: number;
  readonly rssStart: number;
  readonly rssEnd: number;
}

function printFigures(f: Figures): void {
  const { ratios, onCpu, onSeconds, idle } = f;
  const onTotal = onCpu.console! + onCpu.backends! + onCpu.browser!;
  console.log(`\nconsole: one pgbench ${PGBENCH.join(' ')} run (PGOPTIONS='${PGBENCH_OPTIONS}') on the primary; the console and its page's browser`);
  console.log(`  switched on and off (SIGSTOP) every ${PHASE} s in ${PAIRS} ABBA pairs after a warm-up pair; the first second of every phase not counted`);
  console.log(`  tps without the console (mean of counted seconds)   ${mean(f.tpsOff).toFixed(0)}`);
  console.log(`  tps with the console and a page                     ${mean(f.tpsOn).toFixed(0)}   (all on / all off ${(mean(f.tpsOn) / mean(f.tpsOff)).toFixed(3)})`);
  console.log(`  tps ratio on/off, median of ${PAIRS} pairs                ${median(ratios).toFixed(3)}   target > 0.99   (pairs p10-p90 ${quantile(ratios, 0.1).toFixed(3)}..${quantile(ratios, 0.9).toFixed(3)}, all ${Math.min(...ratios).toFixed(2)}..${Math.max(...ratios).toFixed(2)})`);
  console.log(`  CPU while on, of one core: console ${pct(onCpu.console!, onSeconds)}, its queries on the 3 servers ${pct(onCpu.backends!, onSeconds)}, page's browser ${pct(onCpu.browser!, onSeconds)}`);
  console.log(`    together ${pct(onTotal, onSeconds)} of one core = ${pct(onTotal / 2, onSeconds)} of this 2-core machine: the TPS pgbench can lose to them`);
  console.log(`  CPU while sampling an idle cluster (${(f.soakSeconds / 60).toFixed(1)} min): console ${pct(idle.console!, f.soakSeconds)}, its queries ${pct(idle.backends!, f.soakSeconds)}, browser ${pct(idle.browser!, f.soakSeconds)}`);
  console.log(`  page first load (navigation to every card)          ${f.firstLoadMs.toFixed(0)} ms`);
  console.log(`  console RSS after ${f.minutes.toFixed(1)} min (${f.samples} samples)        ${f.rssEnd.toFixed(1)} MB   (${f.rssStart.toFixed(1)} MB after the first load)`);
}

/**
 * The console's cost to the cluster: pgbench TPS on the primary with the console running and a
 * page connected, against both frozen (SIGSTOP), alternating in short phases of one pgbench run;
 * the CPU the console, its queries' backends and the page's browser used while on; the page's
 * first load; and the console's memory after MINUTES of one sample a second.
 */
export async function consoleScenario(): Promise<Record<string, number>> {
  const skip = noBrowser();
  if (skip) {
    console.log(`\nconsole: skipped: ${skip}`);
    return {};
  }
  const { bindir } = await findBinaries();
  return withCluster(await resolveOsUser(), ['--replicas', '2'], async (dir, port) => {
    const passfile = join(dir, 'secrets', 'superuser.pgpass');
    await pgbench(bindir, port, passfile, ['-i', '-q', '-s', '10']);
    const { child, url } = await startConsole(dir);
    let page: Awaited<ReturnType<typeof openPage>> | undefined;
    let browserPids: number[] = [];
    /** SIGSTOP/SIGCONT to the console and the browser; a renderer that has gone is skipped. */
    const signalAll = (signal: NodeJS.Signals): void => {
      for (const pid of [child.pid!, ...browserPids]) {
        try {
          process.kill(pid, signal);
        } catch {
          /* exited */
        }
      }
    };
    try {
      const began = Date.now();
      page = await openPage(url, 3);
      const rssStart = await rssMb(child.pid!);
      browserPids = await pidsWith(page.profile);
      const groups = { console: [child.pid!], backends: await consoleBackends(bindir, [port, port + 1, port + 2], passfile), browser: browserPids };
      // CPU used during the counted on-phases (the warm-up pair excluded), whole phases including their first second.
      const onCpu: Record<string, number> = { console: 0, backends: 0, browser: 0 };
      let phaseStart = cpuNow(groups);
      let switches = 0;
      const intervals = await alternate(bindir, port, passfile, (on) => signalAll(on ? 'SIGCONT' : 'SIGSTOP'), (endingOn) => {
        const now = cpuNow(groups);
        if (endingOn && switches >= 2) for (const name of Object.keys(onCpu)) onCpu[name]! += now[name]! - phaseStart[name]!;
        phaseStart = now;
        switches++;
      });
      signalAll('SIGCONT');
      // The last phase ends with pgbench, not at a switch: its CPU is not in onCpu, nor are its seconds below.
      const onSeconds = PAIRS * PHASE - (phaseOn(2 * PAIRS + 1) ? PHASE : 0);
      const ratios = pairRatios(intervals);
      const counted = intervals.filter((i) => i.counted);
      const tpsOn = counted.filter((i) => i.on).map((i) => i.tps);
      const tpsOff = counted.filter((i) => !i.on).map((i) => i.tps);
      const soakFrom = Date.now();
      const cpuFrom = cpuNow(groups);
      const soakUntil = began + MINUTES * 60_000;
      while (Date.now() < soakUntil) await new Promise((r) => setTimeout(r, Math.min(10_000, soakUntil - Date.now())));
      const soakSeconds = Math.max(1, (Date.now() - soakFrom) / 1000);
      const cpuTo = cpuNow(groups);
      const metrics = await (await fetch(`${url}metrics`)).text();
      const samples = Number(/^pgrepl_console_samples_total (\d+)/m.exec(metrics)?.[1] ?? 0);
      const minutes = (Date.now() - began) / 60_000;
      const rssEnd = await rssMb(child.pid!);
      const ratio = median(ratios);
      const idle = { console: cpuTo.console! - cpuFrom.console!, backends: cpuTo.backends! - cpuFrom.backends!, browser: cpuTo.browser! - cpuFrom.browser! };
      printFigures({ ratios, tpsOn, tpsOff, onCpu, onSeconds, idle, soakSeconds, firstLoadMs: page.firstLoadMs, minutes, samples, rssStart, rssEnd });
      return {
        consoleTpsRatio: ratio, consoleTpsRatioP10: quantile(ratios, 0.1), consoleTpsRatioP90: quantile(ratios, 0.9), consoleTpsRatioAll: mean(tpsOn) / mean(tpsOff),
        consoleFirstLoadMs: page.firstLoadMs, consoleRssMb: rssEnd, consoleRssStartMb: rssStart, consoleMinutes: minutes, consoleSamples: samples,
        consoleCpuPercent: (100 * onCpu.console!) / onSeconds, consoleBackendsCpuPercent: (100 * onCpu.backends!) / onSeconds, consoleBrowserCpuPercent: (100 * onCpu.browser!) / onSeconds,
      };
    } finally {
      signalAll('SIGCONT');
      if (page) {
        await page.context.close().catch(() => undefined);
        await rm(page.profile, { recursive: true, force: true });
      }
      child.kill('SIGTERM'); // an idle console exits 0 on it
      await once(child, 'exit');
    }
  });
}
