-- 0016 (PostgreSQL mirror of sql/0016_servers.sql): Asterisk servers as directory entities (issue 16 item 2). Each daemon is bound to one server
-- and claims only callbacks it can place there: the agent's phone and a trunk of the campaign's
-- number on that server. Secrets are never stored: they come from each daemon's environment/config.
-- The server 'default' needs no row: it is the implicit server of a center with one Asterisk, reached
-- with the daemon's own `ari`/`ami` config, so every existing file and config stays valid.
CREATE TABLE servers (
  id           TEXT PRIMARY KEY,
  ari_url      TEXT,                 -- NULL = the daemon's ari.url
  ari_username TEXT,                 -- NULL = the daemon's ari.username
  ami_host     TEXT,                 -- NULL = the daemon's ami.host
  ami_port     INTEGER,              -- NULL = the daemon's ami.port
  ami_username TEXT,                 -- NULL = the daemon's ami.username
  updated_at   BIGINT NOT NULL
);

-- Where a phone registers and where a trunk is configured (a PJSIP endpoint on that server).
ALTER TABLE phones ADD COLUMN server_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE trunks ADD COLUMN server_id TEXT NOT NULL DEFAULT 'default';
CREATE INDEX phones_server ON phones(server_id, agent_id);

-- A caller number may go out through one trunk per server: numbers.trunk_id is its first trunk,
-- these rows name every trunk that carries it (the import writes them; a number without rows here
-- goes out through numbers.trunk_id only).
CREATE TABLE number_trunks (
  e164     TEXT NOT NULL REFERENCES numbers(e164) ON DELETE CASCADE,
  trunk_id TEXT NOT NULL REFERENCES trunks(id),
  PRIMARY KEY (e164, trunk_id)
);

-- Presence is written per server: each daemon replaces only its own server's rows.
ALTER TABLE phone_presence ADD COLUMN server_id TEXT NOT NULL DEFAULT 'default';
