import { useEffect, useState } from 'react';

// Live updates: the daemon's event stream (GET /events, Server-Sent Events, resumed by the browser
// with Last-Event-ID after a reconnect) when the daemon has it; until then, or while it is down,
// a poll every 3 s. Either way the screen re-reads the API: events only say "something changed".

export function useLiveUpdates(refresh: () => void, everyMs = 3000): 'event stream' | 'polling' {
  const [mode, setMode] = useState<'event stream' | 'polling'>('polling');
  useEffect(() => {
    let es: EventSource | null = null;
    let timer: ReturnType<typeof setInterval> | null = null;
    const poll = () => {
      if (!timer) timer = setInterval(refresh, everyMs);
      setMode('polling');
    };
    const stopPoll = () => {
      if (timer) clearInterval(timer);
      timer = null;
    };
    poll();
    if (typeof EventSource !== 'undefined') {
      es = new EventSource('/events');
      es.onopen = () => {
        stopPoll();
        setMode('event stream');
        refresh();
      };
      es.onmessage = () => refresh();
      for (const t of ['callback.created', 'callback.live', 'callback.dialing', 'attempt.ended', 'callback.completed', 'callback.failed', 'callback.cancelled', 'callback.rescheduled', 'callback.reassigned']) es.addEventListener(t, () => refresh());
      es.onerror = () => {
        // The browser reconnects by itself (sending Last-Event-ID); poll meanwhile. A 404 (no
        // stream in this daemon) closes it for good: stay on polling.
        if (es?.readyState === EventSource.CLOSED) es = null;
        poll();
      };
    }
    return () => {
      stopPoll();
      es?.close();
    };
  }, [refresh, everyMs]);
  return mode;
}
