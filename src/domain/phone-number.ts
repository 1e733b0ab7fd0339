import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

// Numbers are compared in E.164 only: "+1 (555) 123-0001", "555-123-0001" with region US and
// "+15551230001" are one number. Whatever format a number arrives in, it is stored as E.164.

export type E164Result = { ok: true; e164: string } | { ok: false; error: string };

export function toE164(input: string, region: string): E164Result {
  const text = input.trim();
  // isPossible, not isValid: 555 test numbers are possible but not assigned, and call centers
  // dial numbers newer than the metadata shipped with libphonenumber.
  const n = isSupportedCountry(region) ? parsePhoneNumberFromString(text, region as CountryCode) : parsePhoneNumberFromString(text);
  if (!n || !n.isPossible()) {
    return { ok: false, error: `"${input}" is not a phone number (give E.164 like +15551230001, or a national number of region ${region})` };
  }
  return { ok: true, e164: n.number };
}

export function isRegion(code: string): boolean {
  return isSupportedCountry(code);
}
