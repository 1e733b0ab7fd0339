import { describe, expect, it } from 'vitest';
import { recordingCutNote, recordingFailedNote, recordingRefusedNote, recordingShown } from '../../src/domain/recording.js';

describe('a recording in the call log, in words', () => {
  it('a stored recording is playable; a note about an incomplete one goes along', () => {
    expect(recordingShown({ name: 'cbd-1-1-x-rec', note: null, deletedAt: null }, 30)).toEqual({ playable: true, note: null });
    expect(recordingShown({ name: 'cbd-1-1-x-rec', note: recordingCutNote(2), deletedAt: null }, 30)).toEqual({ playable: true, note: recordingCutNote(2) });
  });
  it('deleted by retention: not playable, says after how many days', () => {
    expect(recordingShown({ name: 'cbd-1-1-x-rec', note: null, deletedAt: 5 }, 30)).toEqual({ playable: false, note: "deleted after 30 days (the campaign's retention)" });
    expect(recordingShown({ name: 'cbd-1-1-x-rec', note: null, deletedAt: 5 }, 1).note).toBe("deleted after 1 day (the campaign's retention)");
    expect(recordingShown({ name: 'cbd-1-1-x-rec', note: null, deletedAt: 5 }, null).note).toBe('deleted (retention)');
  });
  it('never recorded: not playable, the reason when there is one', () => {
    expect(recordingShown({ name: null, note: recordingRefusedNote('HTTP 500'), deletedAt: null }, 30)).toEqual({ playable: false, note: 'not recorded: Asterisk refused to start the recording (HTTP 500)' });
    expect(recordingShown({ name: null, note: null, deletedAt: null }, 30)).toEqual({ playable: false, note: null });
  });
  it('failure words: with and without what Asterisk said', () => {
    expect(recordingFailedNote(null)).toBe('recording failed during the call: Asterisk gave no reason');
    expect(recordingCutNote(null)).toMatch(/^recording stopped while the call went on: .*disk is full/);
    expect(recordingCutNote(0)).toMatch(/^recording stopped within its first second while the call went on/);
  });
});
