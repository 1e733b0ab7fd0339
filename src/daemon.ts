import type { Config } from './config.js';
import { AmiClient } from './asterisk/ami.js';
import { asteriskClaimsPort, startStaleClaimSweep } from './asterisk/stale-claims.js';
import { AriClient } from './asterisk/ari.js';
import { startRecordingRetention } from './dialer/recording-retention.js';
import { BUSY_STATES, Presence } from './asterisk/presence.js';
import { writePresence } from './store/presence.js';
import { registerGauges } from './metrics.js';
import { TrunkLimiter } from './dialer/trunk-limits.js';
import { CallbackdError, ErrorCodes } from './errors.js';
import { buildApi, type Api } from './api/server.js';
import type { Logger } from './log.js';
import { AgiServer } from './agi/server.js';
import { readAgiSecret } from './agi/auth.js';
import { agentCallback, callbackInfo, requestCallback } from './agi/routes.js';
import { Scheduler } from './scheduler/scheduler.js';
import { openDaemonDbs } from './daemon-db.js';
import { allServers, getServer } from './store/servers.js';
import { bindServer } from './server-binding.js';
import { startEvents } from './events/service.js';
import { readAiContextSecret } from './ai-secret.js';
import { contextExpiry, contextUrl } from './domain/ai-context.js';

// The composition root: the only module that knows every room. Owns start, stop and signals.

export interface Daemon {
  stop(): Promise<void>;
  /** Resolves with the process exit code once the daemon has stopped. */
  done: Promise<number>;
  scheduler: Scheduler;
}

export async function startDaemon(config: Config, log: Logger): Promise<Daemon> {
  // The API's, the scheduler's/dialer's and the rest's connections, on either engine (daemon-db.ts).
  const dbs = await openDaemonDbs(config.database, log);
  const { db, apiDb, dialDb } = dbs;
  const database = dbs.describe();
  const bound = bindServer(config, await getServer(db, config.server), [...(await allServers(db)).map((s) => s.id), 'default']);
  if ('error' in bound) {
    await dbs.close();
    throw new CallbackdError(ErrorCodes.CONFIG_INVALID, bound.error);
  }
  const ai = readAiContextSecret(config.ai.contextSecretFile);
  if ('error' in ai) {
    await dbs.close();
    throw new CallbackdError(ErrorCodes.CONFIG_INVALID, ai.error);
  }
  const aiSecret = ai.secret;
  log.info({ db: `${database.engine} ${database.where}`, instanceId: config.instanceId, server: config.server, ari: bound.ari.url, ami: `${bound.ami.host}:${bound.ami.port}` }, 'callbackd starting');
  const ari = new AriClient({ ...bound.ari, reconnect: config.reconnect, log: log.child({ adapter: 'ari' }) });
  const ami = new AmiClient({ ...bound.ami, reconnect: config.reconnect, log: log.child({ adapter: 'ami' }) });
  const presence = new Presence(ami, log.child({ adapter: 'presence' }));
  const limiter = new TrunkLimiter();
  registerGauges({
    server: config.server,
    instanceId: config.instanceId,
    db,
    trunksInUse: () => limiter.snapshot(),
    links: () => ({ ari: { connected: ari.connected, reconnects: ari.reconnects }, ami: { connected: ami.connected, reconnects: ami.reconnects } }),
  });
  const scheduler = new Scheduler({
    db: dialDb,
    ari,
    presence,
    limiter,
    log,
    owner: config.instanceId,
    serverId: config.server,
    leaseMs: config.scheduler.leaseMs,
    backstopPollMs: config.scheduler.backstopPollMs,
    externalWriteCheckMs: config.scheduler.externalWriteCheckMs,
    agentRetryDelayMs: config.scheduler.agentRetryDelayMs,
    ...(aiSecret ? { aiContextUrl: (id: number, ringSec: number, now: number) => contextUrl(config.ai.contextBaseUrl, aiSecret, id, contextExpiry(now, ringSec, config.ai.contextGraceSec)) } : {}),
    failpointBeforeOriginateMs: Number(process.env.CALLBACKD_FAILPOINT_BEFORE_ORIGINATE_MS ?? 0) || undefined,
  });

  const events = await startEvents({ db, log: log.child({ adapter: 'events' }), config: config.events, webhooks: config.webhooks, smtp: config.smtp });
  // A change made in this process: act on it now, and tell the event streams now.
  const nudge = () => {
    scheduler.nudge();
    events.wake();
  };
  const agi = config.agi.enabled
    ? new AgiServer({
        ...config.agi,
        secret: () => (config.agi.secretFile ? readAgiSecret(config.agi.secretFile) : { error: 'agi.secretFile is not set' }),
        log: log.child({ adapter: 'agi' }),
      })
        .route('request-callback', requestCallback({ db, now: Date.now, nudge }))
        .route('agent-callback', agentCallback({ db, now: Date.now, nudge }))
        .route('callback-info', callbackInfo({ db, now: Date.now, nudge }))
    : null;

  // `callbackd agents` runs in another process: hand it what AMI shows, on change and every 30 s.
  let presenceTimer: NodeJS.Timeout | null = null;
  const savePresence = async () => {
    presenceTimer = null;
    if (!presence.ready) return;
    const now = Date.now();
    try {
      await writePresence(
        db,
        presence.list().map((p) => ({
          endpoint: p.endpoint, registered: p.registered, reachable: p.reachable, contactUri: p.contactUri, deviceState: p.deviceState,
          inUse: BUSY_STATES.has(p.deviceState), changedAt: p.changedAt, writtenAt: now,
        })),
        config.server,
      );
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'could not save phone presence for `callbackd agents`');
    }
  };
  presence.on('change', () => (presenceTimer ??= setTimeout(savePresence, 250)));
  const presenceHeartbeat = setInterval(savePresence, 30_000);
  presenceHeartbeat.unref();
  const stopRetention = startRecordingRetention({ db, ari, log: log.child({ adapter: 'recordings' }), now: Date.now, serverId: config.server });
  // CBDAPP_ globals whose adopter died before their leg ended (src/asterisk/stale-claims.ts).
  const stopClaimSweep = startStaleClaimSweep(asteriskClaimsPort(ari, ami, log.child({ adapter: 'ari' })), () => ari.connected && ami.connected);

  let api: Api | null = null;
  const startApi = async () => {
    if (!config.api.enabled) return;
    api = await buildApi({
      db: apiDb, log: log.child({ adapter: 'api' }), now: Date.now, nudge, bodyLimit: config.api.bodyLimitBytes,
      events: { hub: events.hub, heartbeatMs: events.heartbeatMs },
      ready: () => ({ ari: ari.connected, ami: ami.connected, presence: presence.ready, server: config.server, database }),
      recordingFile: (name) => ari.storedRecordingFile(name),
      ...(aiSecret ? { aiContextSecret: aiSecret } : {}),
    });
    try {
      await api.listen({ host: config.api.host, port: config.api.port });
    } catch (err) {
      throw new CallbackdError(ErrorCodes.CONFIG_INVALID, `api: cannot listen on ${config.api.host}:${config.api.port} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check api.host and api.port`);
    }
    if (stopping) await api.close(); // SIGTERM arrived while it was starting
    else log.info({ host: config.api.host, port: (api.server.address() as { port: number }).port }, 'HTTP API listening');
  };

  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  let stopping: Promise<void> | null = null;
  let exitCode = 0;
  const ever = { ari: false, ami: false };
  ari.on('connected', () => (ever.ari = true));
  ami.on('connected', () => (ever.ami = true));

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log.info('stopping: no new callbacks will be claimed');
      await agi?.close();
      await api?.close();
      await scheduler.stop(config.scheduler.shutdownGraceMs);
      await events.stop();
      clearInterval(presenceHeartbeat);
      stopRetention();
      stopClaimSweep();
      if (presenceTimer) clearTimeout(presenceTimer);
      ari.stop();
      ami.stop();
      await dbs.close();
      log.info({ exitCode }, 'callbackd stopped');
      resolveDone(exitCode);
    })();
    return stopping;
  };

  // Wrong credentials at start are a configuration error: say so once and exit non-zero.
  // Later (someone changed ari.conf under us) we keep retrying and keep saying why.
  const onAuth = (which: 'ari' | 'ami') => (err: CallbackdError) => {
    if (!ever[which]) {
      log.fatal({ code: err.code }, err.message);
      exitCode = 2;
      void stop();
    } else log.error({ code: err.code }, err.message);
  };
  ari.on('authFailed', onAuth('ari'));
  ami.on('authFailed', onAuth('ami'));

  const onSignal = (sig: string) => () => {
    log.info({ signal: sig }, 'signal received');
    void stop();
  };
  process.once('SIGTERM', onSignal('SIGTERM'));
  process.once('SIGINT', onSignal('SIGINT'));

  ari.start();
  ami.start();
  scheduler.start();
  void Promise.all([agi?.listen(), startApi()]).catch((err: Error) => {
    // A port in use or not allowed is a configuration error: say which setting, and stop.
    log.fatal({ code: (err as CallbackdError).code }, err.message);
    exitCode = 2;
    void stop();
  });
  return { stop, done, scheduler };
}
