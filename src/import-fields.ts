import { z } from 'zod';
import { isValidZone } from './domain/due.js';

// The field types of the import file (README "Import file") and of a CSV lead row: how an admin writes
// an id, a number, a zone. Field names are snake_case as admins write them in YAML.

// YAML reads an unquoted +15551230001 or 1001 as a number: numbers are taken as the text they were.
export const text = (t: z.ZodString, numberAs: (n: number) => string = String) => z.preprocess((v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? numberAs(v as number) : v), t);
export const E164 = text(z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number like +15551230001'), (n) => `+${n}`);
export const Phone = text(z.string().min(1)); // E.164, or national in the campaign's default_region
export const Zone = z.string().refine(isValidZone, 'must be an IANA time zone like America/New_York');
export const Id = text(z.string().min(1).max(64).regex(/^[A-Za-z0-9_.@-]+$/, 'letters, digits, _ . @ - only'));
export const strict = <T extends z.ZodRawShape>(shape: T) => z.object(shape).strict();
/** on | off; a YAML 1.1 reader's true/false for an unquoted on/off is taken as meant. */
export const OnOff = z.preprocess((v) => (v === true ? 'on' : v === false ? 'off' : v), z.enum(['off', 'on']));
/** Retry delays are seconds; a month is more than any carrier or person asks for. */
export const MONTH_S = 30 * 86_400;
