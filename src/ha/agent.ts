import { setTimeout as sleep } from 'node:timers/promises';
import { readSpec } from '../spec/file.js';
import type { NodeSpec } from '../spec/schema.js';
import { nodeNamed, primaryOf, withNewPrimary } from '../spec/topology.js';
import { saveSpec } from '../cluster/create.js';
import { ClusterBusyError, withClusterLock } from '../cluster/lock.js';
import type { Cluster } from '../cluster/context.js';
import { quorumMembers } from '../cluster/sync.js';
import { act, LeaseLostError, stopSelf } from './act.js';
import type { ActContext } from './act-context.js';
import type { Dcs } from './dcs/dcs.js';
import { decide } from './decide.js';
import { LeaseKeeper, monotonic, type Clock } from './lease.js';
import { lookAtLastLeader, lookAtLease, lookAtPeers, lookAtSelf, memberState, type LastLeaderMemory, type Memory } from './look.js';
import type { MemberState } from './member.js';
import { OwnServer } from './own-server.js';
import { readPaused } from './pause.js';
import { isAlive, readPostmasterPid } from '../pg/postmaster-pid.js';
import { FailsafeTicker } from './failsafe.js';
import { currentRequest } from './request.js';
import type { Decision, HaSettings, LocalPg, Snapshot } from './snapshot.js';
import { clusterLedBy } from './topology.js';

/** Crashes restarted in place within this window before the lease is handed over instead. */
const RESTART_WINDOW_MS = 60_000;
/** How often the agent checks, between cycles, that its postmaster is alive. */
const POSTMASTER_WATCH_MS = 20;
/** PGREPL_HA_TRACE=1 logs every action but renewals with its duration (for `npm run bench` with BENCH_VERBOSE). */
const TRACE = process.env.PGREPL_HA_TRACE === '1';
/** A leaderless cluster is looked at again this soon: a takeover is waited for, not a loop wait. */
const SOON_MS = 20;
/** Looked at this long after another's lease would run out: the store's clock may run a little behind. */
const LEASE_END_SLACK_MS = 5;
/**
 * The holder's long steps: a promotion, a start, a crash restart (crash recovery) can outlast the
 * lease on a loaded machine, so the lease is renewed every loop wait while they run (Patroni keeps
 * its loop renewing while it starts PostgreSQL, for the same reason). Else the watchdog fences the
 * node mid-step and, the lease lapsed, no replica may take over under a quorum.
 */
const HOLDER_STEPS: ReadonlySet<string> = new Set(['promote', 'start', 'restart']);

export interface AgentOptions {
  readonly cluster: Cluster;
  readonly node: string;
  readonly dcs: Dcs;
  readonly clock?: Clock;
  readonly log: (line: string) => void;
}

/** What the REST API serves between cycles. */
export interface AgentView {
  readonly member: MemberState | null;
  readonly leader: string | null;
  readonly paused: boolean;
  readonly holdsLease: boolean;
  readonly pg: LocalPg | null;
  /** The last look at the DCS succeeded. */
  readonly dcsReachable: boolean;
}

/**
 * One node's HA agent: every `loopWaitMs` it looks (its own server, the lease, its peers when the
 * lease is free), decides (a pure function), acts on its own node, and publishes what it saw and
 * why in the DCS. It never touches another node's files or processes.
 */
export class Agent {
  readonly #clock: Clock;
  readonly #own: OwnServer;
  readonly #lease: LeaseKeeper;
  readonly #memory: Memory = { expectRunning: false, unreachableSince: null, handedOverTo: null };
  readonly #restarts: number[] = [];
  #cluster: Cluster;
  #stopped = false;
  #wake: (() => void) | null = null;
  #lastReason = '';
  /** Cycles in a row whose step failed. */
  #failures = 0;
  readonly #lastLeader: LastLeaderMemory = { verdict: 'unknown', timeouts: 0 };
  #view: AgentView = { member: null, leader: null, paused: false, holdsLease: false, pg: null, dcsReachable: true };
  #failsafe: { from: string; until: number } | null = null;
  #pausedSeen: boolean | null = null;
  /** When the lease another node holds runs out unless renewed (monotonic ms), as last seen. */
  #othersLeaseEnds: number | null = null;
  readonly #failsafeTicker: FailsafeTicker;

  constructor(private readonly options: AgentOptions) {
    this.#clock = options.clock ?? monotonic;
    this.#cluster = options.cluster;
    this.#own = new OwnServer(() => this.#cluster, this.#node());
    this.#failsafeTicker = new FailsafeTicker(options.cluster.spec.ha!.loopWaitMs);
    const ha = options.cluster.spec.ha!;
    this.#lease = new LeaseKeeper(options.dcs, options.node, this.#clock, fenceMargin(ha.ttlMs), () => void this.#onLeaseExpiring());
  }

  get view(): AgentView {
    return this.#view;
  }

  get own(): OwnServer {
    return this.#own;
  }

  #node(): NodeSpec {
    const node = nodeNamed(this.#cluster.spec, this.options.node);
    if (!node) throw new Error(`invariant: ${this.options.node} is in the spec`);
    return node;
  }

  /** Runs cycles until `stop()`. */
  async run(): Promise<void> {
    const watching = this.#watchPostmaster();
    try {
      await this.#loop();
    } finally {
      clearInterval(watching);
    }
  }

  /**
   * Between cycles, checks every 20 ms that the postmaster the last look saw is still alive (a
   * signal-0 probe and a /proc read): a crash is then acted on at once, not at the next loop wait.
   */
  #watchPostmaster(): NodeJS.Timeout {
    const dataDir = this.#cluster.layout.dataDir(this.options.node);
    let pid: number | null = null;
    const timer = setInterval(() => {
      if (!this.#memory.expectRunning) return void (pid = null);
      if (pid === null) void readPostmasterPid(dataDir).then((info) => (pid = info?.pid ?? null), () => undefined);
      else if (!isAlive(pid)) {
        pid = null;
        this.nudge();
      }
    }, POSTMASTER_WATCH_MS);
    timer.unref();
    return timer;
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      const decision = await this.cycle();
      if (this.#stopped) break;
      // The holder never backs off: its renewals must keep their pace. Nor does a node running as a
      // primary without the lease (an agent restarted over it): it must take the lease or fence
      // before another node takes it, not sleep through that.
      const pg = this.#view.pg;
      const mayWrite = pg?.kind === 'running' && pg.role === 'primary';
      const backoff = this.#lease.deadline === null && !mayWrite ? 2 ** Math.min(this.#failures, 5) : 1;
      await this.#pause(this.#untilNextLook(decision.soon ? SOON_MS : this.#cluster.spec.ha!.loopWaitMs * backoff));
    }
  }

  /**
   * No later than just past the moment another holder's lease runs out unless renewed: a crashed
   * leader is then seen gone at once, not up to a loop wait later.
   */
  #untilNextLook(ms: number): number {
    if (this.#othersLeaseEnds === null) return ms;
    return Math.min(ms, Math.max(SOON_MS, this.#othersLeaseEnds + LEASE_END_SLACK_MS - this.#clock()));
  }

  async #pause(ms: number): Promise<void> {
    const ac = new AbortController();
    this.#wake = () => ac.abort();
    await sleep(ms, undefined, { signal: ac.signal }).catch(() => undefined);
    this.#wake = null;
  }

  /**
   * A leader that cannot reach the DCS asks to keep running (POST /failsafe). By granting it this
   * agent promises to take no free lease for a TTL: the leader is alive and reaches it, so there
   * is nothing to fail over from. The leader asks before its own deadline, when its lease has not
   * expired in the DCS, so no acquire of ours can have succeeded meanwhile; one that arrives late,
   * after this agent took the lease, is refused.
   */
  grantFailsafe(leader: string): boolean {
    if (leader === this.options.node || !this.#cluster.spec.nodes.some((n) => n.name === leader)) return false;
    // Holding the lease itself (taken once the asker's ran out), this agent may be promoting; and
    // it vouches only for the leader it last saw hold the lease, not for any node that claims to.
    if (this.#lease.deadline !== null || this.#view.leader !== leader) return false;
    this.#failsafe = { from: leader, until: this.#clock() + this.#cluster.spec.ha!.ttlMs };
    return true;
  }

  /** Looks again now instead of at the end of the loop wait (an API request, a test). */
  nudge(): void {
    this.#wake?.();
  }

  /**
   * One look, decide, act, publish. Never throws: a failed step is the cycle's reason, and repeated
   * failures back a non-holder's loop off (up to 32 loop waits), so a rewind that cannot work is
   * not retried four times a second.
   */
  async cycle(): Promise<Decision> {
    try {
      await this.#reloadSpec();
      const snapshot = await this.#look();
      const decision = decide(snapshot);
      const failure = (await this.#act(snapshot, decision)) ?? (await this.#keepingLease(() => this.#recordLeadership()));
      this.#failures = failure ? this.#failures + 1 : 0;
      this.#say(failure ? `${decision.reason} — failed: ${failure}` : decision.reason);
      await this.#publish(snapshot, this.#lastReason);
      return failure ? { ...decision, soon: false } : decision;
    } catch (error) {
      this.#failures += 1;
      this.#say(`cycle failed: ${(error as Error).message}`);
      return { reason: this.#lastReason, actions: [] };
    }
  }

  #say(reason: string): void {
    if (reason !== this.#lastReason) this.options.log(reason);
    this.#lastReason = reason;
  }

  async #reloadSpec(): Promise<void> {
    try {
      this.#cluster = { ...this.#cluster, spec: await readSpec(this.#cluster.layout.specFile) };
    } catch (error) {
      this.options.log(`could not re-read the spec (${(error as Error).message}); using the last one`);
    }
  }

  async #look(): Promise<Snapshot> {
    const now = this.#clock();
    const node = this.#node();
    const [pg, lease, paused, request] = await Promise.all([
      lookAtSelf(this.#cluster, node, this.#own, this.#memory, now),
      lookAtLease(this.options.dcs, this.#lease.deadline, now),
      this.#readPaused(),
      currentRequest(this.options.dcs).catch(() => null),
    ]);
    const ha = this.#cluster.spec.ha!;
    // While a switchover's named candidate takes over, nobody compares positions: the old leader
    // stopped cleanly once the candidate had received everything, only the candidate may take the
    // lease, and the others repoint to it ahead of its promotion. Waiting on every peer's answer
    // first would lengthen the write pause.
    const handingOver = request !== null && request.candidate !== null && request.refused === null;
    const leaderless = lease.dcs === 'ok' && lease.holder === null && !paused && !handingOver;
    const specPrimary = primaryOf(this.#cluster.spec).name;
    // A peer answers /status with a fresh query of its server: on a loaded machine that takes more than
    // 300 ms, and under a quorum every member must be compared, so a short wait means no failover at all.
    const [peers, lastLeader] = leaderless
      ? await Promise.all([lookAtPeers(this.#cluster.spec, node.name, ha.retryTimeoutMs), lookAtLastLeader(this.#cluster, specPrimary, node.name, ha.retryTimeoutMs, this.#lastLeader)])
      : [[], 'unknown' as const];
    const led = clusterLedBy(this.#cluster, lease.dcs === 'ok' && lease.holder !== null ? lease.holder : specPrimary);
    this.#restarts.splice(0, this.#restarts.filter((t) => t < now - RESTART_WINDOW_MS).length);
    const settings: HaSettings = {
      paused,
      nofailover: node.nofailover === true,
      delayed: node.delay !== undefined,
      syncK: this.#cluster.spec.replication.sync,
      quorumMembers: quorumMembers(led.spec),
      fenceMarginMs: fenceMargin(ha.ttlMs),
      maxRestarts: 1,
      restartsSoFar: this.#restarts.length,
    };
    const failsafeFrom = this.#failsafe !== null && this.#failsafe.until > now ? this.#failsafe.from : null;
    this.#othersLeaseEnds = lease.dcs === 'ok' && lease.holder !== null && lease.holder !== node.name ? (lease.expiresAt ?? null) : null;
    return { me: node.name, pg, lease, peers, settings, specPrimary, lastLeader, request, failsafeFrom, now };
  }

  /**
   * Whether the cluster is paused. A failed read (the lease read may still have worked) keeps the
   * last answer: taken as "not paused" it would let a replica promote during maintenance. Before
   * any answer, paused: no automatic action until the DCS says otherwise.
   */
  async #readPaused(): Promise<boolean> {
    try {
      this.#pausedSeen = await readPaused(this.options.dcs);
    } catch {
      /* keep the last answer */
    }
    return this.#pausedSeen ?? true;
  }

  #context(): ActContext {
    return {
      cluster: this.#cluster,
      node: this.#node(),
      dcs: this.options.dcs,
      lease: this.#lease,
      own: this.#own,
      stopping: () => (this.#memory.expectRunning = false),
      handedOver: (to: string) => (this.#memory.handedOverTo = to),
      loopWaitMs: this.#cluster.spec.ha!.loopWaitMs,
      failsafe: this.#failsafeTicker,
      trace: TRACE ? (line) => this.options.log(`trace: ${line}`) : () => undefined,
    };
  }

  /** Runs the decision's actions in order; the first failure ends the cycle and is returned in words. */
  async #act(snapshot: Snapshot, decision: Decision): Promise<string | null> {
    if (snapshot.lease.dcs === 'ok' && snapshot.lease.holder !== snapshot.me && snapshot.lease.holder !== null) {
      this.#lease.forget();
      this.#failsafeTicker.stop();
    }
    for (const action of decision.actions) {
      try {
        if (action.kind === 'restart') this.#restarts.push(this.#clock());
        const run = (): Promise<void> => act(this.#context(), action);
        const started = this.#clock();
        await (HOLDER_STEPS.has(action.kind) ? this.#keepingLease(run) : run());
        if (TRACE && action.kind !== 'renew') this.options.log(`trace: ${action.kind} took ${Math.round(this.#clock() - started)} ms`);
      } catch (error) {
        if (!(error instanceof LeaseLostError)) return `${action.kind}: ${(error as Error).message.split('\n')[0]}`;
        return error.message;
      }
    }
    return null;
  }

  /** Runs `work`, renewing the lease every loop wait meanwhile while this agent holds it. */
  async #keepingLease<T>(work: () => Promise<T>): Promise<T> {
    let renewing = false;
    const timer = setInterval(() => {
      if (renewing || this.#lease.deadline === null) return;
      renewing = true;
      // A failed renewal is the watchdog's business: it fences before the lease can expire.
      void this.#lease.renew().catch(() => undefined).finally(() => (renewing = false));
    }, this.#cluster.spec.ha!.loopWaitMs);
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }

  /**
   * The holder records itself as the primary in the spec, so commands that read the spec (`status`,
   * `up`, `url`) see the cluster as it is. Under the cluster lock; a busy lock is retried next cycle.
   */
  async #recordLeadership(): Promise<string | null> {
    const me = this.options.node;
    if (this.#lease.deadline === null || primaryOf(this.#cluster.spec).name === me) return null;
    try {
      await withClusterLock(this.#cluster.layout.root, `agent --node ${me}`, async () => {
        const fresh = { ...this.#cluster, spec: await readSpec(this.#cluster.layout.specFile) };
        this.#cluster = await saveSpec(fresh, withNewPrimary(fresh.spec, me));
      });
      this.options.log(`recorded ${me} as the primary in ${this.#cluster.layout.specFile}`);
      return null;
    } catch (error) {
      return error instanceof ClusterBusyError ? null : `recording the new primary in the spec: ${(error as Error).message}`;
    }
  }

  async #publish(snapshot: Snapshot, reason: string): Promise<void> {
    const node = this.#node();
    const eligible = node.nofailover !== true && node.delay === undefined;
    const member = memberState(node, snapshot.pg, eligible, reason);
    const leader = snapshot.lease.dcs === 'ok' ? snapshot.lease.holder : this.#view.leader;
    const dcsReachable = snapshot.lease.dcs === 'ok';
    this.#view = { member, leader, paused: snapshot.settings.paused, holdsLease: this.#lease.deadline !== null && this.#lease.deadline > this.#clock(), pg: snapshot.pg, dcsReachable };
    // Without the DCS a publish would only wait out its timeout, and a failsafe primary's next ask
    // must come well within a TTL of the last.
    if (!dcsReachable) return;
    try {
      await this.options.dcs.publishMember(node.name, member, this.#cluster.spec.ha!.ttlMs * 3);
    } catch {
      /* the DCS is down: the next cycle says so */
    }
  }

  /**
   * The watchdog: the lease may expire before a renewal lands, so the server is stopped now. Any
   * running server, not only one the last look saw as a primary: that look predates the cycle's
   * actions, and a promote or a start as primary may be under way (a holder's server is a primary
   * or about to be one). A stopped one is left alone, not marked diverged.
   */
  async #onLeaseExpiring(): Promise<void> {
    if (this.#view.paused || this.#stopped) return;
    if (!(await this.#own.running().catch(() => true))) return;
    this.options.log('the lease may expire before a renewal lands: fencing this primary');
    await act(this.#context(), { kind: 'fence' }).catch((error: Error) => this.options.log(`fencing failed: ${error.message}`));
  }

  /**
   * Stops the loop. Unless the cluster is paused (maintenance: the servers are left as they are),
   * this node's server is stopped and its lease given up, as a node without its agent must not
   * run as a primary nobody fences.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.nudge();
    const paused = await readPaused(this.options.dcs).catch(() => false);
    if (!paused) {
      await stopSelf(this.#context()).catch((error: Error) => this.options.log(`stopping the server failed: ${error.message}`));
      if (this.#lease.deadline !== null) await this.#lease.release().catch(() => undefined);
    }
    this.#lease.forget();
    this.#failsafeTicker.stop();
    await this.options.dcs.removeMember(this.options.node).catch(() => undefined);
    await this.#own.close();
  }
}

/** The watchdog fences this long before the lease could expire elsewhere. */
export function fenceMargin(ttlMs: number): number {
  return Math.max(200, Math.floor(ttlMs / 4));
}
