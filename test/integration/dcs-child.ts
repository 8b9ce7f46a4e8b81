// One racer of the local DCS contract test, in its own process as an agent would be: opens the
// store, says "ready", and on a line on stdin tries to acquire the leader key and prints the result.
import { openLocalDcs } from '../../src/ha/dcs/local.js';

const [dir, name, ttl] = process.argv.slice(2);
const dcs = await openLocalDcs(dir!, { ttlMs: Number(ttl), timeoutMs: 10_000 });
process.stdout.write('ready\n');
process.stdin.once('data', () => {
  dcs.acquireLeader(name!).then(
    (won) => {
      process.stdout.write(`${JSON.stringify({ won })}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      process.stdout.write(`${JSON.stringify({ error: String(error) })}\n`);
      process.exit(1);
    },
  );
});
