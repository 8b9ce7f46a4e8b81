import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomInt } from 'node:crypto';
import type { TestContext } from 'node:test';

/** Why network-namespace tests cannot run here (not root, no `ip`, no permission), or null. */
export function netnsMissing(): string | null {
  const probe = `pgrepl-probe-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' });
    return null;
  } catch (error) {
    return `network namespaces unavailable ('ip netns add' failed: ${String((error as { stderr?: Buffer }).stderr ?? (error as Error).message).trim()}); the test needs root and iproute2`;
  }
}

export function ip(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', args, (error, stdout, stderr) => (error ? reject(new Error(`ip ${args.join(' ')}: ${stderr.trim() || error.message}`)) : resolve(stdout)));
  });
}

/**
 * A private network of namespaces made for one test: a bridge in a namespace of its own, and hosts
 * (namespaces) each with one address on it in a random 10.x.y.0/24 that exists only inside them.
 * Nothing is configured in the root namespace. Every namespace (and with it every link) is deleted
 * after the test, even when it fails; processes started in them are killed by pid before.
 */
export class NetLab {
  readonly prefix = `pgr${randomInt(0, 36 ** 4).toString(36).padStart(4, '0')}`;
  readonly subnet = `10.${randomInt(200, 250)}.${randomInt(1, 250)}`;
  readonly #namespaces: string[] = [];
  readonly #children: ChildProcess[] = [];
  readonly bridge: string;

  private constructor(t: TestContext) {
    this.bridge = `${this.prefix}-br`;
    t.after(() => this.destroy());
  }

  static async create(t: TestContext): Promise<NetLab> {
    const lab = new NetLab(t);
    await lab.#addNamespace(lab.bridge);
    await ip(['-n', lab.bridge, 'link', 'add', 'br0', 'type', 'bridge']);
    await ip(['-n', lab.bridge, 'link', 'set', 'br0', 'up']);
    return lab;
  }

  /** The address of host number `n` (1-254) in the lab's subnet. */
  address(n: number): string {
    return `${this.subnet}.${n}`;
  }

  ns(name: string): string {
    return `${this.prefix}-${name}`;
  }

  async #addNamespace(ns: string): Promise<void> {
    await ip(['netns', 'add', ns]);
    this.#namespaces.push(ns);
    await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  }

  /** A namespace `name` with address number `n` on eth0, cabled to the bridge by the veth `v-NAME`. */
  async addHost(name: string, n: number): Promise<string> {
    const ns = this.ns(name);
    await this.#addNamespace(ns);
    await ip(['-n', this.bridge, 'link', 'add', `v-${name}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await ip(['-n', this.bridge, 'link', 'set', `v-${name}`, 'master', 'br0', 'up']);
    await ip(['-n', ns, 'addr', 'add', `${this.address(n)}/24`, 'dev', 'eth0']);
    await ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
    return ns;
  }

  /** A namespace `name`, on no network, with the given addresses on its loopback (to build a cluster in). */
  async addIsland(name: string, addresses: readonly number[]): Promise<string> {
    const ns = this.ns(name);
    await this.#addNamespace(ns);
    for (const n of addresses) await ip(['-n', ns, 'addr', 'add', `${this.address(n)}/32`, 'dev', 'lo']);
    return ns;
  }

  /** Unplugs (or plugs back) host `name`'s cable, on the bridge's side. */
  async link(name: string, state: 'up' | 'down'): Promise<void> {
    await ip(['-n', this.bridge, 'link', 'set', `v-${name}`, state]);
  }

  /** Runs a program to completion inside namespace `ns`. */
  exec(ns: string, argv: readonly string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = execFile('ip', ['netns', 'exec', ns, ...argv], { maxBuffer: 64 * 2 ** 20 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
      if (input !== undefined) child.stdin!.end(input);
    });
  }

  /** Starts a program inside namespace `ns` (`ip netns exec` execs it: the child's pid is the program's); killed after the test. */
  spawn(ns: string, argv: readonly string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], options);
    this.#children.push(child);
    return child;
  }

  async destroy(): Promise<void> {
    await Promise.all(this.#children.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    })));
    for (const ns of this.#namespaces.reverse()) await ip(['netns', 'del', ns]).catch(() => undefined);
  }
}
