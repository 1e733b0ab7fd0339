import { useEffect, useRef, useState } from 'react';

// Live updates: the daemon's event stream (GET /events, Server-Sent Events, resumed by the browser
// with Last-Event-ID after a reconnect); while the stream is down, a poll every few seconds.
// Either way the screen re-reads the API (events only say "something changed"), one read at a
// time: a burst of events while a read is in flight costs one more read, not one per event.

export function useLiveUpdates(refresh: () => Promise<void>, everyMs = 3000): 'event stream' | 'polling' {
  const [mode, setMode] = useState<'event stream' | 'polling'>('polling');
  const busy = useRef(false);
  const again = useRef(false);
  useEffect(() => {
    const read = async () => {
      if (busy.current) {
        again.current = true;
        return;
      }
      busy.current = true;
      try {
        do {
          again.current = false;
          await refresh();
        } while (again.current);
      } finally {
        busy.current = false;
      }
    };
    let timer: ReturnType<typeof setInterval> | null = null;
    const poll = () => {
      if (!timer) timer = setInterval(() => void read(), everyMs);
      setMode('polling');
    };
    const stopPoll = () => {
      if (timer) clearInterval(timer);
      timer = null;
    };
    void read(); // the first paint does not wait for the stream
    if (typeof EventSource === 'undefined') {
      poll();
      return stopPoll;
    }
    const es = new EventSource('/events');
    es.onopen = () => {
      stopPoll();
      setMode('event stream');
      // What changed between the first read and the stream's start (or during a reconnect) is
      // not replayed to this screen: read once more (after the read in flight, never beside it).
      void read();
    };
    es.onmessage = () => void read();
    for (const t of ['callback.created', 'callback.live', 'callback.dialing', 'attempt.ended', 'callback.completed', 'callback.failed', 'callback.cancelled', 'callback.rescheduled', 'callback.reassigned']) es.addEventListener(t, () => void read());
    es.onerror = () => poll(); // the browser reconnects by itself; a 404 (no stream) leaves it closed: poll on
    return () => {
      stopPoll();
      es.close();
    };
  }, [refresh, everyMs]);
  return mode;
}
