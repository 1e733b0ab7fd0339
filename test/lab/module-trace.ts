// A preload (`node --import dist/test/lab/module-trace.js`) that lists every module the process loaded into
// MODULE_TRACE_FILE when it exits: ES modules as the loader hook saw them (the hook runs on its own thread
// and appends each URL as it loads), CommonJS ones from require.cache. test/integration/daemon-modules.test.ts
// uses it to check what a daemon loads on a given configuration.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

const out = process.env.MODULE_TRACE_FILE;
if (out) {
  const hook = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  const r = await next(url, context);
  appendFileSync(${JSON.stringify(out)}, url + '\\n');
  return r;
}`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
  const cache = createRequire(import.meta.url).cache;
  process.on('exit', () => appendFileSync(out, Object.keys(cache).map((f) => pathToFileURL(f).href + '\n').join('')));
}
