// "Look again soon", asked many times in one turn of the event loop, runs once on the next turn:
// a burst of writes or finished jobs wakes the outbox hub or a delivery loop once, not per item.

/** A waker: calling it runs `run` on the next turn (once however often it was called), while `active()`. */
export function coalesced(run: () => void, active: () => boolean): () => void {
  let pending = false;
  return () => {
    if (!active() || pending) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      run();
    });
  };
}
