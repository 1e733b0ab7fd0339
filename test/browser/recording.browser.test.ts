import { afterEach, beforeEach, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { bookCallback } from '../../src/app/book.js';
import { recordingCutNote, recordingRefusedNote } from '../../src/domain/recording.js';
import { FIXTURE } from './fixture.js';
import { describeInChromium, openConsole, shot, signIn, type Console } from './harness.js';

// The call log's recording player in Debian's Chromium: a real WAV, served by the API from a temp
// recording dir (standing in for ARI's /recordings/stored/{name}/file), loads in the <audio>
// element of an admin's call log; an agent who may not see the callback gets no player and a 404
// from the route; attempts without a recording say why, in words the API chose.

const SECONDS = 2;
/** A real PCM WAV: 8 kHz 16-bit mono, a 440 Hz tone, as Asterisk writes its .wav recordings. */
function toneWav(seconds: number): Buffer {
  const rate = 8000;
  const n = rate * seconds;
  const b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + n * 2, 4);
  b.write('WAVEfmt ', 8, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + i * 2);
  return b;
}

await describeInChromium('the call log plays recordings (Chromium)', (chromium) => {
  let c: Console;
  let page: Page;
  let close: () => Promise<void>;
  let recDir: string;
  const served: string[] = [];
  beforeEach(async () => {
    recDir = mkdtempSync(join(tmpdir(), 'cbd-recordings-'));
    const file = { ...FIXTURE, campaigns: FIXTURE.campaigns.map((k) => (k.id === 'C1' ? { ...k, record: 'agent_and_customer', recording_retention_days: 30 } : k)) };
    // What the daemon's ARI adapter does (storedRecordingFile), from a folder: the file, or null.
    const recordingFile = async (name: string) => {
      served.push(name);
      const p = join(recDir, `${name}.wav`);
      if (!existsSync(p)) return null;
      const body = readFileSync(p);
      return new Response(body, { headers: { 'content-type': 'audio/wav', 'content-length': String(body.length) } });
    };
    ({ c, page, close } = await openConsole(chromium, file, { extra: { recordingFile }, csp: 'the player runs' }));
  });
  afterEach(() => close());

  /** An ended, answered attempt of callback `id` with the given recording columns (as the dialer writes them). */
  const attempt = (id: number, seq: number, rec: { name?: string; note?: string; deletedAt?: number }) =>
    c.db.$client
      .prepare(
        `INSERT INTO call_attempts (callback_id, seq, dial_order, caller_id, customer_number, trunk_id, agent_channel_id, customer_channel_id, bridge_id, lease_token,
           started_at, ended_at, outcome, duration_ms, recording_name, recording_note, recording_deleted_at)
         VALUES (?, ?, 'AGENT_FIRST', '+15550100001', '+12125550101', 'carrier', 'a', 'c', ?, 'tok', ?, ?, 'ANSWERED', 3000, ?, ?, ?)`,
      )
      .run(id, seq, `cbd-${id}-${seq}-t-bridge`, Date.now() - 60_000, Date.now() - 50_000, rec.name ?? null, rec.note ?? null, rec.deletedAt ?? null);

  it('an admin plays a stored recording; the other attempts say why they have none; an agent who may not see the callback gets no player and a 404', async () => {
    const id = (await bookCallback(c.db, { leadId: 'n1', due: '+2h', type: 'USERONLY', ownerAgentId: 'a1', notes: null, actor: 'test' }, Date.now())).callback.id;
    writeFileSync(join(recDir, `cbd-${id}-1-t-rec.wav`), toneWav(SECONDS));
    attempt(id, 1, { name: `cbd-${id}-1-t-rec` });
    attempt(id, 2, { note: recordingRefusedNote('ARI POST /bridges/x/record → HTTP 500') });
    attempt(id, 3, { name: `cbd-${id}-3-t-rec`, deletedAt: Date.now() - 1000 });
    attempt(id, 4, {});

    await signIn(page, c.url, 'root');
    await page.goto(`${c.url}/console/callbacks/${id}`);
    const log = page.getByRole('table', { name: 'Call log' });
    await log.waitFor();
    const player = page.getByLabel('Recording of attempt 1');
    await player.waitFor();
    // The <audio> element fetched the WAV through the API with the session cookie and decoded it.
    const loaded = () => player.evaluate((a: HTMLAudioElement) => ({ loaded: a.readyState >= 1, error: a.error?.code ?? null }));
    await expect.poll(loaded, { timeout: 20_000 }).toEqual({ loaded: true, error: null });
    const duration = await player.evaluate((a: HTMLAudioElement) => a.duration);
    expect(duration).toBeGreaterThan(SECONDS - 0.1);
    expect(duration).toBeLessThan(SECONDS + 0.1);
    expect(served).toContain(`cbd-${id}-1-t-rec`);
    // It plays: a click on the player's play button (a user gesture), and its clock runs.
    const box = (await player.boundingBox())!;
    await page.mouse.click(box.x + 20, box.y + box.height / 2);
    await expect.poll(() => player.evaluate((a: HTMLAudioElement) => a.currentTime), { timeout: 10_000 }).toBeGreaterThan(0.5);
    expect(await player.evaluate((a: HTMLAudioElement) => a.error)).toBeNull();
    // Only attempt 1 has a player; the others say why, as the API put it.
    expect(await log.locator('audio').count()).toBe(1);
    const rows = log.locator('tbody tr');
    await expect.poll(() => rows.nth(1).locator('td').last().textContent()).toBe('not recorded: Asterisk refused to start the recording (ARI POST /bridges/x/record → HTTP 500)');
    expect(await rows.nth(2).locator('td').last().textContent()).toBe("deleted after 30 days (the campaign's retention)");
    expect(await rows.nth(3).locator('td').last().textContent()).toBe('—');
    await shot(page, 'recording-player');
    // The deleted recording's route is a 404 too, whatever Asterisk still has.
    expect(await page.evaluate(async (u) => (await fetch(u)).status, `/callbacks/${id}/attempts/3/recording`)).toBe(404);

    // Agent a2 may not see a1's USERONLY callback: no call log, no player, and the route is a 404.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, c.url, 'a2');
    await page.goto(`${c.url}/console/callbacks/${id}`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    expect(await page.locator('audio').count()).toBe(0);
    const before = served.length;
    const hidden = await page.evaluate(async (u) => {
      const r = await fetch(u);
      return { status: r.status, body: (await r.json()) as { message: string } };
    }, `/callbacks/${id}/attempts/1/recording`);
    expect(hidden).toEqual({ status: 404, body: expect.objectContaining({ message: `no callback ${id}` }) });
    expect(served.length, 'the file was never fetched for the agent').toBe(before);
  });

  it('a recording cut short by a full disk plays what was kept and says why', async () => {
    const id = (await bookCallback(c.db, { leadId: 'n2', due: '+2h', type: 'ANYONE', ownerAgentId: null, notes: null, actor: 'test' }, Date.now())).callback.id;
    writeFileSync(join(recDir, `cbd-${id}-1-t-rec.wav`), toneWav(1));
    attempt(id, 1, { name: `cbd-${id}-1-t-rec`, note: recordingCutNote(1) });
    await signIn(page, c.url, 'mgr');
    await page.goto(`${c.url}/console/callbacks/${id}`);
    const player = page.getByLabel('Recording of attempt 1');
    await player.waitFor();
    await expect.poll(() => player.evaluate((a: HTMLAudioElement) => ({ loaded: a.readyState >= 1, error: a.error?.code ?? null })), { timeout: 20_000 }).toEqual({ loaded: true, error: null });
    expect(await player.evaluate((a: HTMLAudioElement) => a.duration)).toBeCloseTo(1, 1);
    expect(await page.locator('.recording-note').textContent()).toBe(recordingCutNote(1));
  });
});
