import { Command, CommanderError } from 'commander';
import { registerCompose } from './compose.js';
import { exitOnInterrupt } from './interrupt.js';
import { reportUsageError } from './output.js';
import { registerDown } from './down.js';
import { registerLogs } from './logs.js';
import { registerPsql } from './psql.js';
import { registerStatus } from './status.js';
import { registerUp } from './up.js';
import { registerUrl } from './url.js';
import { registerSet } from './set.js';
import { registerFailover } from './failover.js';
import { registerRejoin } from './rejoin.js';
import { registerAddReplica } from './add-replica.js';
import { registerRemoveReplica } from './remove-replica.js';
import { registerSwitchover } from './switchover.js';
import { registerAgent } from './agent.js';
import { registerPause } from './pause.js';
import { registerConsole } from './console.js';

const program = new Command('pgrepl')
  .description('A PostgreSQL primary with streaming hot-standby replicas, done right, in one command.')
  .version('0.1.0')
  .configureOutput({ outputError: () => undefined }) // usage errors are reported as every error is, below
  .exitOverride();

for (const register of [
  registerUp, registerStatus, registerUrl, registerDown, registerPsql, registerLogs,
  registerAddReplica, registerRemoveReplica, registerSwitchover, registerFailover, registerRejoin, registerSet, registerCompose,
  registerAgent, registerPause,
]) register(program);
registerConsole(program);
for (const command of program.commands) command.exitOverride();

exitOnInterrupt();
program.parseAsync(process.argv).catch((error: unknown) => {
  if (!(error instanceof CommanderError)) throw error;
  // Help and version are exits too, with code 0.
  if (error.exitCode === 0) process.exitCode = 0;
  else reportUsageError(error.message);
});
