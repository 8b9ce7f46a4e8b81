import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
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
/** Rounds of pgbench with and without the console, in alternating order, BENCH_CONSOLE_SECONDS each. */
const ROUNDS = Number(process.env.BENCH_CONSOLE_ROUNDS ?? 8);
const SECONDS = Number(process.env.BENCH_CONSOLE_SECONDS ?? 15);

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

async function tps(bindir: string, port: number, passfile: string): Promise<number> {
  const out = await pgbench(bindir, port, passfile, ['-n', '-c', '4', '-j', '2', '-T', String(SECONDS)]);
  const match = /tps = ([\d.]+) \(without initial connection time\)/.exec(out);
  if (!match) throw new Error(`no tps in pgbench output: ${out}`);
  return Number(match[1]);
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

/**
 * The console's cost to the cluster: pgbench TPS on the primary with and without the console
 * running and a page connected (rounds alternate which comes first), the page's first load, and
 * the console's memory after MINUTES of one sample a second.
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
      const without: number[] = [];
      const withConsole: number[] = [];
      const ratios: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const pair: Record<string, number> = {};
        for (const on of round % 2 === 0 ? [false, true] : [true, false]) {
          // Off: the console and the page's browser frozen, neither sampling, serving nor drawing.
          signalAll(on ? 'SIGCONT' : 'SIGSTOP');
          pair[on ? 'on' : 'off'] = await tps(bindir, port, passfile);
          (on ? withConsole : without).push(pair[on ? 'on' : 'off']!);
        }
        ratios.push(pair.on! / pair.off!);
        process.stderr.write(`console round ${round + 1}/${ROUNDS}: ${pair.off!.toFixed(0)} tps off, ${pair.on!.toFixed(0)} on, ratio ${ratios.at(-1)!.toFixed(3)}\n`);
      }
      signalAll('SIGCONT');
      const cpuFrom = { at: Date.now(), console: await cpuSeconds(child.pid!), browser: (await Promise.all(browserPids.map(cpuSeconds))).reduce((a, b) => a + b, 0) };
      const soakUntil = began + MINUTES * 60_000;
      while (Date.now() < soakUntil) await new Promise((r) => setTimeout(r, Math.min(10_000, soakUntil - Date.now())));
      const soakSeconds = Math.max(1, (Date.now() - cpuFrom.at) / 1000);
      const consoleCpu = (100 * ((await cpuSeconds(child.pid!)) - cpuFrom.console)) / soakSeconds;
      const browserCpu = (100 * ((await Promise.all(browserPids.map(cpuSeconds))).reduce((a, b) => a + b, 0) - cpuFrom.browser)) / soakSeconds;
      const metrics = await (await fetch(`${url}metrics`)).text();
      const samples = Number(/^pgrepl_console_samples_total (\d+)/m.exec(metrics)?.[1] ?? 0);
      const minutes = (Date.now() - began) / 60_000;
      const rssEnd = await rssMb(child.pid!);
      const ratio = median(ratios);
      console.log(`\nconsole: pgbench -c 4 -j 2 -T ${SECONDS} on the primary, ${ROUNDS} rounds of off/on pairs (off: console and browser frozen with SIGSTOP)`);
      console.log(`  tps without the console (median)               ${median(without).toFixed(0)}`);
      console.log(`  tps with the console and a page (median)       ${median(withConsole).toFixed(0)}`);
      console.log(`  tps ratio on/off (median of pairs)             ${ratio.toFixed(3)}   target > 0.99   (pairs ${Math.min(...ratios).toFixed(2)}..${Math.max(...ratios).toFixed(2)})`);
      console.log(`  CPU while sampling: console ${consoleCpu.toFixed(1)}% of a core, page's browser ${browserCpu.toFixed(1)}%`);
      console.log(`  page first load (navigation to every card)     ${page.firstLoadMs.toFixed(0)} ms`);
      console.log(`  console RSS after ${minutes.toFixed(1)} min (${samples} samples)   ${rssEnd.toFixed(1)} MB   (${rssStart.toFixed(1)} MB after the first load)`);
      return {
        consoleTpsRatio: ratio, consoleFirstLoadMs: page.firstLoadMs, consoleRssMb: rssEnd, consoleRssStartMb: rssStart,
        consoleMinutes: minutes, consoleSamples: samples, consoleCpuPercent: consoleCpu, consoleBrowserCpuPercent: browserCpu,
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
