import { z } from 'zod';

// Query-string pieces shared by the routes that take a callbacks listing's filters
// (GET /callbacks, GET /export/callbacks.csv), so the two cannot drift apart.

/** A comma list: `state=LIVE,ACTIVE`. */
export const csv = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .optional();

/** An instant: ISO 8601 with offset, or a date (read as UTC midnight). */
export const instant = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 instant like 2026-11-26T19:00:00Z or a date like 2026-11-26')
  .transform((s) => Date.parse(s));

/** The filters and order of a callbacks listing. */
export const listingFilters = {
  state: csv, campaign: csv, list: csv, agent: csv, disposition: csv,
  type: z.enum(['USERONLY', 'ANYONE']).optional(),
  from: instant.optional(), to: instant.optional(),
  sort: z.enum(['due', 'id']).default('due'),
  order: z.enum(['asc', 'desc']).default('asc'),
};
