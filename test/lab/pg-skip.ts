// setupFiles of the `pg` project: when pg-global.ts could not start PostgreSQL (outside CI only; in CI
// it fails the run instead), every test of the project is skipped with the reason, not failed.
import { beforeEach, inject } from 'vitest';

const reason = inject('pgSkipReason');
beforeEach((ctx) => {
  if (reason) ctx.skip(`PostgreSQL is not available: ${reason}`);
});
