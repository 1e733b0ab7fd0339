// The sweep of CBDAPP_<channel id> globals nobody will delete (leg-claims.ts). A daemon that adopted a
// leg deletes its global when the leg ends; if that daemon dies too before the leg ends, the global
// stays in Asterisk until Asterisk restarts, one per such leg. So every daemon, now and then, lists
// the globals (AMI Command "dialplan show globals": ARI reads a global by name but cannot list them)
// and deletes those whose channel is gone (ARI GET /channels/{id} → 404). A global whose channel is
// up, or whose look failed, is kept: its leg may still enter the dialplan and need it.
//
// Bounded: at most SWEEP_BATCH channels looked at per run, one request at a time, in the REST
// limiter's 'new' lane (after every call already up): thousands of globals are worked through over
// the runs of one pass (a pass not over brings the next run forward), never as a burst that stalls ARI.
import type { Logger } from '../log.js';
import type { AmiClient } from './ami.js';
import type { AriClient } from './ari.js';
import { CLAIM_PREFIX, claimVariable } from './leg-claims.js';

/** Channels looked at per run. */
export const SWEEP_BATCH = 50;
/** Between runs; SWEEP_BACKLOG_MS while a run left globals unlooked at. */
export const SWEEP_EVERY_MS = 5 * 60_000;
export const SWEEP_BACKLOG_MS = 10_000;
/** The first run, once ARI and AMI are both up after the start. */
export const SWEEP_FIRST_MS = 2_000;

/** The channel ids of the CBDAPP_ globals in `dialplan show globals` output, sorted, each once. */
export function claimedChannels(lines: readonly string[]): string[] {
  const ids = new Set<string>();
  for (const line of lines) {
    // "   CBDAPP_<id>=<app>" (an empty value too: the hold dialplan's Set(GLOBAL(…)=) leaves one).
    const m = /^\s*([^\s=]+)=/.exec(line);
    if (m && m[1]!.startsWith(CLAIM_PREFIX) && m[1]!.length > CLAIM_PREFIX.length) ids.add(m[1]!.slice(CLAIM_PREFIX.length));
  }
  return [...ids].sort();
}

/**
 * One pass goes through the sorted ids, at most `max` per run: the next ids after `after` (the last
 * id the previous run looked at; null = a new pass from the start). `more`: the pass is not over, so
 * globals of live legs at the front never starve the rest, and a pass ends even when all are live.
 */
export function sweepBatch(ids: readonly string[], after: string | null, max: number): { batch: string[]; more: boolean } {
  const rest = after === null ? ids : ids.filter((id) => id > after);
  return { batch: rest.slice(0, max), more: rest.length > max };
}

/** What a look found: the channel is up, gone (404), or unknown (the look failed). */
export type ChannelLook = 'up' | 'gone' | 'unknown';

/** Globals to delete: only those whose channel is known to be gone. */
export function staleClaims(looks: ReadonlyMap<string, ChannelLook>): string[] {
  return [...looks].filter(([, look]) => look === 'gone').map(([id]) => id);
}

export interface StaleClaimsPort {
  /** The lines of `dialplan show globals` (throws when AMI refuses, e.g. no write=command). */
  listGlobals(): Promise<string[]>;
  channelExists(channelId: string): Promise<boolean>;
  deleteGlobal(variable: string): Promise<void>;
  log: Logger;
}

/** The sweep's Asterisk: the list through AMI, looks and deletes through ARI in the 'new' lane. */
export function asteriskClaimsPort(ari: AriClient, ami: AmiClient, log: Logger): StaleClaimsPort {
  return {
    listGlobals: () => ami.command('dialplan show globals'),
    channelExists: async (id) => (await ari.getChannel(id, 'new')) !== null,
    deleteGlobal: (variable) => ari.deleteGlobal(variable, 'new'),
    log,
  };
}

export class StaleClaimSweep {
  private after: string | null = null;
  private refusedLogged = false;

  constructor(private readonly port: StaleClaimsPort) {}

  /** One run: list, look at one batch, delete the stale. `more`: globals were left for the next run. */
  async run(): Promise<{ checked: number; deleted: number; more: boolean }> {
    let lines: string[];
    try {
      lines = await this.port.listGlobals();
    } catch (err) {
      if (!this.refusedLogged) {
        this.refusedLogged = true;
        this.port.log.warn({ err: (err as Error).message }, `could not list Asterisk's globals, so ${CLAIM_PREFIX} globals left by a daemon that died are not swept (manager.conf: the AMI user needs write=command)`);
      }
      return { checked: 0, deleted: 0, more: false };
    }
    this.refusedLogged = false;
    const { batch, more } = sweepBatch(claimedChannels(lines), this.after, SWEEP_BATCH);
    this.after = more ? (batch.at(-1) ?? null) : null;
    const looks = new Map<string, ChannelLook>();
    for (const id of batch) looks.set(id, await this.port.channelExists(id).then((up): ChannelLook => (up ? 'up' : 'gone'), (): ChannelLook => 'unknown'));
    let deleted = 0;
    for (const id of staleClaims(looks)) {
      try {
        await this.port.deleteGlobal(claimVariable(id));
        deleted++;
      } catch (err) {
        this.port.log.warn({ channelId: id, err: (err as Error).message }, `could not delete the stale global ${claimVariable(id)}; the next sweep tries again`);
      }
    }
    if (deleted > 0) this.port.log.info({ deleted, checked: batch.length }, `deleted ${CLAIM_PREFIX} globals whose leg ended after its adopter stopped`);
    return { checked: batch.length, deleted, more };
  }
}

/**
 * Runs the sweep SWEEP_FIRST_MS after the start, then every SWEEP_EVERY_MS (SWEEP_BACKLOG_MS while
 * globals are left), only while `ready()` (ARI and AMI connected). Returns stop.
 */
export function startStaleClaimSweep(port: StaleClaimsPort, ready: () => boolean): () => void {
  const sweep = new StaleClaimSweep(port);
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const next = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(() => void tick(), ms);
    timer.unref?.();
  };
  const tick = async () => {
    if (!ready()) return next(SWEEP_FIRST_MS);
    const r = await sweep.run().catch((err: Error) => {
      port.log.warn({ err: err.message }, `${CLAIM_PREFIX} globals sweep failed; trying again on the next one`);
      return { more: false };
    });
    next(r.more ? SWEEP_BACKLOG_MS : SWEEP_EVERY_MS);
  };
  next(SWEEP_FIRST_MS);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
