import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { canSee } from '../app/auth.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import { recordingShown } from '../domain/recording.js';
import { getCallback } from '../store/callbacks.js';
import { getCampaign } from '../store/directory.js';
import { recordingOfAttempt } from '../store/recordings.js';
import type { ApiDeps } from './deps.js';
import { ApiError } from './openapi.js';

// GET /callbacks/{id}/attempts/{seq}/recording: an attempt's call recording, streamed from
// Asterisk (ARI GET /recordings/stored/{name}/file). Whoever may not see the callback gets the
// same 404 as for a callback that does not exist; so does an attempt without a recording.

export function recordingRoutes(d: ApiDeps) {
  return async (root: FastifyInstance) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/callbacks/:id/attempts/:seq/recording',
      {
        schema: {
          operationId: 'getAttemptRecording', tags: ['callbacks'],
          summary: "An attempt's call recording (audio/wav)",
          description: 'Recorded when the campaign has record: agent_and_customer. 404 when the callback is not visible to you, the attempt has no recording, or retention deleted it.',
          params: z.object({ id: z.coerce.number().int().positive(), seq: z.coerce.number().int().positive() }),
          produces: ['audio/wav'],
          response: { 200: z.any().describe('the WAV file'), 401: ApiError, 404: ApiError, 503: ApiError },
        },
      },
      async (req, reply) => {
        const { id, seq } = req.params;
        const cb = await getCallback(d.db, id);
        if (!cb || !canSee(req.principal, cb)) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no callback ${id}`);
        const r = await recordingOfAttempt(d.db, id, seq);
        const shown = r ? recordingShown(r, (await getCampaign(d.db, cb.campaignId))?.recordingRetentionDays ?? null) : null;
        if (!r?.name || !shown?.playable) {
          throw new CallbackdError(ErrorCodes.NOT_FOUND, `no recording for attempt ${seq} of callback ${id}${shown?.note ? `: ${shown.note}` : ''}`);
        }
        const res = d.recordingFile ? await d.recordingFile(r.name) : null;
        if (!res?.body) throw new CallbackdError(ErrorCodes.NOT_FOUND, `Asterisk has no recording ${r.name}`);
        const len = res.headers.get('content-length');
        if (len) reply.header('content-length', len);
        reply.header('content-disposition', `attachment; filename="${r.name}.wav"`);
        return reply.type('audio/wav').send(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream));
      },
    );
  };
}
