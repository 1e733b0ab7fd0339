// Compile-time only (nothing here runs): each pg table of ./schema.ts has exactly the row types of its
// SQLite twin, for reads ($inferSelect) and writes ($inferInsert), and both modules export the same tables.
// A store body written once against `c.t` is only sound while this file compiles.
import type * as people from '../people.js';
import type * as lite from '../schema.js';
import type * as pg from './schema.js';

type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

type Lite = Pick<typeof lite, keyof typeof pg & keyof typeof lite> & Pick<typeof people, 'userPasswords' | 'consoleSessions'>;
type Select<K extends keyof Lite> = Lite[K]['$inferSelect'];
type Insert<K extends keyof Lite> = Lite[K]['$inferInsert'];
type PgSelect<K extends keyof typeof pg> = (typeof pg)[K]['$inferSelect'];
type PgInsert<K extends keyof typeof pg> = (typeof pg)[K]['$inferInsert'];

/** One line per table: a column added to one twin only, or typed differently, fails to compile here. */
export type Twins = [
  Expect<Equal<Select<'trunks'>, PgSelect<'trunks'>>>, Expect<Equal<Insert<'trunks'>, PgInsert<'trunks'>>>,
  Expect<Equal<Select<'numbers'>, PgSelect<'numbers'>>>, Expect<Equal<Insert<'numbers'>, PgInsert<'numbers'>>>,
  Expect<Equal<Select<'campaigns'>, PgSelect<'campaigns'>>>, Expect<Equal<Insert<'campaigns'>, PgInsert<'campaigns'>>>,
  Expect<Equal<Select<'lists'>, PgSelect<'lists'>>>, Expect<Equal<Insert<'lists'>, PgInsert<'lists'>>>,
  Expect<Equal<Select<'leads'>, PgSelect<'leads'>>>, Expect<Equal<Insert<'leads'>, PgInsert<'leads'>>>,
  Expect<Equal<Select<'leadPhones'>, PgSelect<'leadPhones'>>>, Expect<Equal<Insert<'leadPhones'>, PgInsert<'leadPhones'>>>,
  Expect<Equal<Select<'agents'>, PgSelect<'agents'>>>, Expect<Equal<Insert<'agents'>, PgInsert<'agents'>>>,
  Expect<Equal<Select<'agentCampaigns'>, PgSelect<'agentCampaigns'>>>, Expect<Equal<Insert<'agentCampaigns'>, PgInsert<'agentCampaigns'>>>,
  Expect<Equal<Select<'phones'>, PgSelect<'phones'>>>, Expect<Equal<Insert<'phones'>, PgInsert<'phones'>>>,
  Expect<Equal<Select<'dnc'>, PgSelect<'dnc'>>>, Expect<Equal<Insert<'dnc'>, PgInsert<'dnc'>>>,
  Expect<Equal<Select<'callbacks'>, PgSelect<'callbacks'>>>, Expect<Equal<Insert<'callbacks'>, PgInsert<'callbacks'>>>,
  Expect<Equal<Select<'audit'>, PgSelect<'audit'>>>, Expect<Equal<Insert<'audit'>, PgInsert<'audit'>>>,
  Expect<Equal<Select<'callAttempts'>, PgSelect<'callAttempts'>>>, Expect<Equal<Insert<'callAttempts'>, PgInsert<'callAttempts'>>>,
  Expect<Equal<Select<'trunkStarts'>, PgSelect<'trunkStarts'>>>, Expect<Equal<Insert<'trunkStarts'>, PgInsert<'trunkStarts'>>>,
  Expect<Equal<Select<'phonePresence'>, PgSelect<'phonePresence'>>>, Expect<Equal<Insert<'phonePresence'>, PgInsert<'phonePresence'>>>,
  Expect<Equal<Select<'servers'>, PgSelect<'servers'>>>, Expect<Equal<Insert<'servers'>, PgInsert<'servers'>>>,
  Expect<Equal<Select<'numberTrunks'>, PgSelect<'numberTrunks'>>>, Expect<Equal<Insert<'numberTrunks'>, PgInsert<'numberTrunks'>>>,
  Expect<Equal<Select<'users'>, PgSelect<'users'>>>, Expect<Equal<Insert<'users'>, PgInsert<'users'>>>,
  Expect<Equal<Select<'apiTokens'>, PgSelect<'apiTokens'>>>, Expect<Equal<Insert<'apiTokens'>, PgInsert<'apiTokens'>>>,
  Expect<Equal<Select<'callbacksArchive'>, PgSelect<'callbacksArchive'>>>, Expect<Equal<Insert<'callbacksArchive'>, PgInsert<'callbacksArchive'>>>,
  Expect<Equal<Select<'userPasswords'>, PgSelect<'userPasswords'>>>, Expect<Equal<Insert<'userPasswords'>, PgInsert<'userPasswords'>>>,
  Expect<Equal<Select<'consoleSessions'>, PgSelect<'consoleSessions'>>>, Expect<Equal<Insert<'consoleSessions'>, PgInsert<'consoleSessions'>>>,
];

/** Every pg export is listed above (a table added to pg/schema.ts only fails here). */
export type AllListed = Expect<Equal<keyof typeof pg, 'trunks' | 'numbers' | 'campaigns' | 'lists' | 'leads' | 'leadPhones' | 'agents' | 'agentCampaigns' | 'phones' | 'dnc' | 'callbacks' | 'audit' | 'callAttempts' | 'trunkStarts' | 'phonePresence' | 'servers' | 'numberTrunks' | 'users' | 'apiTokens' | 'callbacksArchive' | 'userPasswords' | 'consoleSessions'>>;

/** Every SQLite table has a pg twin (a SQLite table added without one fails here). */
type LiteTables = { [K in keyof typeof lite]: (typeof lite)[K] extends { $inferSelect: unknown } ? K : never }[keyof typeof lite];
export type AllTwinned = Expect<Equal<Exclude<LiteTables, keyof typeof pg>, never>>;
