// Promise-keeping figures per campaign / agent / day: pure arithmetic over one row per callback.
// A callback was kept on time when its first customer leg was dialed within `onTimeSec` of the
// moment it could first be dialed: its due time, or the opening of the calling window it waited
// for. Lateness is that first dial minus that moment.

export type ReportDim = 'campaign' | 'agent' | 'day';

export interface ReportInput {
  campaignId: string;
  /** The owner, else the agent of its first attempt, else '' (an ANYONE callback never dialed). */
  agentId: string;
  /** The due day, YYYY-MM-DD on the campaign's clock. */
  day: string;
  state: string;
  /** When it could first be dialed (due, or the window opening); null: no window within reach. */
  reference: number | null;
  firstDialAt: number | null;
}

export interface ReportRow {
  campaign: string | null;
  agent: string | null;
  day: string | null;
  booked: number;
  dialed: number;
  keptOnTime: number;
  completed: number;
  noAnswer: number;
  busy: number;
  failed: number;
  cancelled: number;
  open: number;
  medianLatenessSec: number | null;
}

const empty = (campaign: string | null, agent: string | null, day: string | null): ReportRow & { lateness: number[] } => ({
  campaign, agent, day, booked: 0, dialed: 0, keptOnTime: 0, completed: 0, noAnswer: 0, busy: 0, failed: 0, cancelled: 0, open: 0, medianLatenessSec: null, lateness: [],
});

export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = Float64Array.from(xs).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Accumulates rows one at a time (bounded by the number of groups, not of callbacks, besides lateness). */
export class ReportBuilder {
  private groups = new Map<string, ReturnType<typeof empty>>();

  constructor(
    private readonly by: ReadonlySet<ReportDim>,
    private readonly onTimeSec: number,
  ) {}

  add(r: ReportInput): void {
    const c = this.by.has('campaign') ? r.campaignId : null;
    const a = this.by.has('agent') ? r.agentId : null;
    const d = this.by.has('day') ? r.day : null;
    const key = `${c}\u0000${a}\u0000${d}`;
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, (g = empty(c, a, d)));
    g.booked++;
    if (r.state === 'COMPLETED') g.completed++;
    else if (r.state === 'NO_ANSWER') g.noAnswer++;
    else if (r.state === 'BUSY') g.busy++;
    else if (r.state === 'FAILED') g.failed++;
    else if (r.state === 'CANCELLED') g.cancelled++;
    else g.open++;
    if (r.firstDialAt !== null) {
      g.dialed++;
      if (r.reference !== null) {
        const late = Math.max(0, r.firstDialAt - r.reference) / 1000;
        g.lateness.push(late);
        if (late <= this.onTimeSec) g.keptOnTime++;
      }
    }
  }

  rows(): ReportRow[] {
    return [...this.groups.values()]
      .map(({ lateness, ...g }) => ({ ...g, medianLatenessSec: median(lateness) }))
      .sort((x, y) => cmp(x.campaign, y.campaign) || cmp(x.agent, y.agent) || cmp(x.day, y.day));
  }
}

const cmp = (a: string | null, b: string | null) => (a ?? '').localeCompare(b ?? '');
