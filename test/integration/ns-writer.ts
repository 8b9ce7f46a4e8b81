import { createInterface } from 'node:readline';
import { Writer } from './writer.js';

/**
 * A Writer run as its own process, so a test can start it inside a network namespace with
 * `ip netns exec` (a Node process cannot enter one). Reads one JSON line of settings on stdin (the
 * password too: never in argv), writes one line per acknowledged commit, `ID AT HOST`, on stdout,
 * and stops when stdin closes or its time is up.
 */
interface Settings {
  readonly hosts: string[];
  readonly ports: number[];
  readonly password: string;
  readonly firstId: number;
  readonly maxMs: number;
  readonly queryTimeoutMs: number;
}

const lines = createInterface({ input: process.stdin });
const first = await new Promise<string>((resolve) => lines.once('line', resolve));
const s = JSON.parse(first) as Settings;
const writer = new Writer(s.ports, s.password, 'writes', s.maxMs, 1_000_000, s.firstId, s.queryTimeoutMs, s.hosts);
let reported = 0;
const report = (): void => {
  let out = '';
  for (; reported < writer.acked.length; reported++) out += `${writer.acked[reported]} ${writer.ackedAt[reported]!.at} ${writer.ackedAt[reported]!.host}\n`;
  if (out) process.stdout.write(out);
};
const timer = setInterval(report, 20);
const phases = setInterval(() => process.stderr.write(`${Date.now()} ${writer.phase}; ${JSON.stringify(writer.answers)}\n`), 1000);
writer.start();
await new Promise<void>((resolve) => {
  lines.once('close', resolve);
  setTimeout(resolve, s.maxMs).unref();
});
await writer.stop();
clearInterval(timer);
clearInterval(phases);
report();
process.exit(0); // a socket to a server cut off by the network must not keep the process alive
