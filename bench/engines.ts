// bench: SQLite and PostgreSQL side by side: bench:trigger's schedule on one daemon over SQLite, then
// on one daemon over PostgreSQL, in one invocation (the same lab, minutes apart).
//   npm run bench:engines [-- N SPREAD_MS STORED]   (defaults 200, 30000, 1000000)
const [n = '200', spread = '30000', stored = '1000000'] = process.argv.slice(2);
process.argv.splice(2, process.argv.length, n, spread, stored, 'sqlite,pg', '1');
await import('./trigger-latency.js');
