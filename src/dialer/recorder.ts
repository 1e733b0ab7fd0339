import { planAttemptEnd, type AttemptEnding, type EndPolicy } from '../domain/attempt-end.js';
import { isCode, ErrorCodes } from '../errors.js';
import type { Logger } from '../log.js';
import { dialOutcomes } from '../metrics.js';
import type { Conn } from '../store/conn.js';
import * as store from '../store/callbacks.js';
import type { WriteQueue } from './write-queue.js';

// The one place an attempt's end is written: the ending → (pure) row and callback plan → one
// lease-checked store transaction. Used by the call session (through its write queue, so a
// database locked by another process delays the end instead of losing it) and by recovery.

export interface AttemptIds {
  callbackId: number;
  token: string;
  /** -1 when recovery found no attempt row: only the callback is moved. */
  attemptId: number;
}

/** Writes one ending; false when the lease was lost (nothing written). */
export async function writeAttemptEnd(db: Conn, log: Logger, ids: AttemptIds, ending: AttemptEnding, policy: EndPolicy): Promise<boolean> {
  return planned(db, log, ids, ending, policy)();
}

/** Decides the ending now (its outcome counted and logged once); the returned write may be retried. */
function planned(db: Conn, log: Logger, ids: AttemptIds, ending: AttemptEnding, policy: EndPolicy): () => Promise<boolean> {
  const { result, next } = planAttemptEnd(ending, policy);
  dialOutcomes.inc({ outcome: result.outcome, cause: result.cause === null ? '' : String(result.cause) });
  log.info({ outcome: result.outcome, cause: result.cause, sipCode: result.sipCode, next: next.state }, result.detail ?? 'attempt ended');
  return async () => {
    try {
      await store.finishAttempt(db, ids.callbackId, ids.token, ids.attemptId, result, next, policy.now);
      return true;
    } catch (err) {
      if (!isCode(err, ErrorCodes.LEASE_LOST)) throw err;
      log.error({ err: (err as Error).message }, 'result not written: lease lost');
      return false;
    }
  };
}

/** One attempt's recorder: writes its end at most once, or nothing once closed. */
export class AttemptRecorder {
  private closed = false;

  constructor(
    private readonly db: Conn,
    private readonly log: Logger,
    private readonly ids: AttemptIds,
    private readonly policy: (ending: AttemptEnding) => Promise<EndPolicy>,
    /** The call's writes in order; a busy database delays the end, never drops it. */
    private readonly writes: WriteQueue,
  ) {}

  /** The callback row has left DIALING, or this process may no longer write it. */
  get done(): boolean {
    return this.closed;
  }

  end(ending: AttemptEnding): void {
    if (this.closed) return;
    this.closed = true;
    // The policy reads the callback's attempt count, in turn with the call's other writes; the
    // ending is decided (counted and logged) once, even when the write itself is retried.
    let write: (() => Promise<boolean>) | null = null;
    this.writes.push('attempt end', async () => {
      write ??= planned(this.db, this.log, this.ids, ending, await this.policy(ending));
      return write();
    });
  }

  /** Lease lost or handed back: write nothing more. */
  close(): void {
    this.closed = true;
  }
}
