import type { Facts } from '../types';

// One attempt's recording in the call log. The API decides (facts.attempts[].recording): a url
// when a recording is stored, else the reason in words. The <audio> element fetches the API route
// itself: the session cookie goes along (same origin), and the route checks who may see the callback.

type Recording = Facts['attempts'][number]['recording'];

export function AttemptRecording({ seq, recording }: { seq: number; recording: Recording }) {
  if (recording.url) {
    return (
      <>
        <audio controls preload="metadata" src={recording.url} aria-label={`Recording of attempt ${seq}`} />
        {recording.note && <span className="recording-note">{recording.note}</span>}
      </>
    );
  }
  return recording.note ? <span className="recording-note">{recording.note}</span> : <>—</>;
}
