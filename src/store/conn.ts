import type { Db } from './db.js';

/** A transaction handed to `db.transaction(tx => …)`. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Either the database or an open transaction: store functions run inside the caller's transaction. */
export type Conn = Db | Tx;
