// What ARI sends callbackd over the event socket: the channel shape, the event types asked for
// (ARI_EVENT_TYPES, the event filter) and the event itself.

export interface AriChannel {
  id: string;
  name: string;
  state: string;
  caller?: { name: string; number: string };
  connected?: { name: string; number: string };
  /** Where the channel is in the dialplan; app_name 'Stasis' = in an ARI application. */
  dialplan?: { context: string; exten: string; priority: number; app_name?: string; app_data?: string };
}

/**
 * The ARI event types callbackd reads; Asterisk is asked to send only these (eventFilter, set on
 * every connect). With the app subscribed to every channel, a 500-call burst brought 40,700 events
 * (26 MB of JSON, half of them ChannelVarset) of which these are 4,500: parsing and dispatching
 * the rest cost the daemon CPU and garbage, and Asterisk the serialising. AriEvent.type is this
 * union, so a handler testing a type not listed here does not compile: add it here first.
 */
export const ARI_EVENT_TYPES = [
  'StasisStart', // a leg answered and entered the app (dialer/session.ts)
  'StasisEnd', // a bridged call outliving its session (scheduler hangupOrphan)
  'ChannelStateChange', // Ringing (session), a late leg of a settled attempt (scheduler)
  'ChannelDestroyed', // a leg ended, with its cause (session, call prompts, scheduler)
  'ChannelDtmfReceived', // the customer's or agent's choice (dialer/call-prompts.ts)
  'PlaybackFinished', // a prompt's end (dialer/call-prompts.ts)
  'RecordingFailed', // (dialer/recording.ts)
  'RecordingFinished',
] as const;
export type AriEventType = (typeof ARI_EVENT_TYPES)[number];

export interface AriEvent {
  type: AriEventType;
  application?: string;
  timestamp?: string;
  channel?: AriChannel;
  cause?: number;
  cause_txt?: string;
  tech_cause?: number;
  args?: string[];
  [k: string]: unknown;
}

/** The channel a playback event is about (its target_uri is channel:<id>); events carry no channel of their own. */
export function playbackChannel(e: AriEvent): string | undefined {
  const uri = (e.playback as { target_uri?: string } | undefined)?.target_uri;
  return uri?.startsWith('channel:') ? uri.slice('channel:'.length) : undefined;
}
