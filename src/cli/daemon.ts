import type { Command } from 'commander';
import { loadConfig, looseSecretsWarning } from '../config.js';
import { startDaemon, type Daemon } from '../daemon.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import { createLogger, logFatal } from '../log.js';
import { exitCodeOf } from './main.js';
import { databaseUrl } from '../store/open-engine.js';
import { examples, openDatabase } from './shared.js';

// Running the daemon.

export function daemonCommands(program: Command): void {
  examples(
    program
      .command('start')
      .description('run the daemon: ARI + AMI adapters, scheduler, dialer, API and FastAGI (SIGTERM stops it cleanly)')
      .requiredOption('-c, --config <file>', '(required) config file, YAML or JSON (see README "Configuration")'),
    ['callbackd start -c /etc/callbackd/callbackd.yaml', 'CALLBACKD_ARI_PASSWORD=… CALLBACKD_AMI_SECRET=… callbackd start -c callbackd.yaml'],
  ).action(async (o: { config: string }) => {
    const config = loadConfig(o.config);
    const url = databaseUrl(config.database);
    // A wrong database.path is the admin's to fix: one line naming it, before anything starts. A
    // PostgreSQL server that cannot be reached is the daemon's own start error (it names host:port/db).
    if (!url) await openDatabase({ path: config.database.path, from: `database.path in ${o.config}` }, { create: true, migrate: false }).close();
    const log = createLogger(config.log.level);
    const loose = looseSecretsWarning(o.config);
    if (loose) log.warn({ file: o.config }, loose);
    let d: Daemon;
    try {
      d = await startDaemon(config, log);
    } catch (err) {
      // The JSON log stream has begun: the error joins it as one line (journald keeps it whole).
      logFatal(log, err);
      process.exitCode = err instanceof CallbackdError ? exitCodeOf(err.code) : 1;
      return;
    }
    process.exitCode = await d.done;
  });
}
