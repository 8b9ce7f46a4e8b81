import { bootstrap } from './bootstrap.js';
import { consoleScenario } from './console.js';
import { composeScenario } from './compose.js';
import { failoverScenario, switchoverScenario } from './lifecycle.js';
import { haFailoverScenario } from './ha-failover.js';
import { haSoakScenario } from './ha-soak.js';

/**
 * `npm run bench [scenario...]`: pgrepl against the raw PostgreSQL tools, measured in the same run
 * on this machine; each scenario prints medians and ratios to its floor. BENCH_RUNS sets the runs;
 * BENCH_SYNC=K runs the switchover scenario under an ANY K quorum. ha-failover: BENCH_HA_DCS=local,etcd
 * (default both, etcd when installed), BENCH_VERBOSE=1 prints the agents' lines after each fault.
 * ha-soak: BENCH_SOAK_MINUTES (default 10), BENCH_SOAK_DCS=local|etcd (default local).
 * console: BENCH_CONSOLE_MINUTES of sampling (default 15); the TPS ratio from BENCH_CONSOLE_PAIRS (24) on/off pairs of BENCH_CONSOLE_PHASE_SECONDS (10).
 */
const scenarios: Record<string, () => Promise<Record<string, number>>> = {
  bootstrap,
  switchover: switchoverScenario,
  failover: failoverScenario,
  'ha-failover': haFailoverScenario,
  'ha-soak': haSoakScenario,
  console: consoleScenario,
  compose: composeScenario,
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const summary: Record<string, number> = {};
for (const name of wanted.length > 0 ? wanted : Object.keys(scenarios)) {
  const scenario = scenarios[name];
  if (!scenario) throw new Error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(', ')}`);
  Object.assign(summary, await scenario());
}
console.log(`\n${JSON.stringify(summary)}`);
