import type { Config } from './config.js';
import { closest } from './did-you-mean.js';
import { DEFAULT_SERVER } from './domain/server-placement.js';
import type { ServerRow } from './store/schema.js';

// Which Asterisk a daemon talks to (README "Running several servers"): its `server` names a row of
// the directory's servers; the row's ARI/AMI settings win, a NULL field keeps the daemon's own
// `ari`/`ami` setting; the implicit server `default` (no row) is reached with the daemon's own settings. Secrets never come from the
// directory: ari.password / ami.secret, or CALLBACKD_SERVER_<ID>_ARI_PASSWORD / _AMI_SECRET.

export function bindServer(config: Config, row: ServerRow | undefined, known: string[]): { ari: Config['ari']; ami: Config['ami'] } | { error: string } {
  if (!row && config.server === DEFAULT_SERVER) return { ari: config.ari, ami: config.ami };
  if (!row) {
    const near = closest(config.server, known);
    return {
      error: `server: "${config.server}" is not in the directory (known: ${known.join(', ') || 'none'})${near ? `; did you mean "${near}"?` : ''}; add it to the import file's servers: section and run callbackd import`,
    };
  }
  return {
    ari: { ...config.ari, url: row.ariUrl ?? config.ari.url, username: row.ariUsername ?? config.ari.username },
    ami: { ...config.ami, host: row.amiHost ?? config.ami.host, port: row.amiPort ?? config.ami.port, username: row.amiUsername ?? config.ami.username },
  };
}
