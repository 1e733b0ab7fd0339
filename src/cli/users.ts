import type { Command } from 'commander';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { setPassword } from '../app/people.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import type { Conn } from '../store/conn.js';
import { getUser } from '../store/directory.js';

// `callbackd user passwd U`: sets the console password of a user from the import file. The password
// is read from the terminal without echo, or as the first line of stdin when piped (scripts, the
// demo); it never appears in argv (visible in `ps`) nor in a log.

async function readPassword(prompt: string): Promise<string> {
  const tty = process.stdin.isTTY;
  let muted = false;
  const out = new Writable({
    write(chunk, _enc, cb) {
      if (!muted) process.stderr.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output: tty ? out : undefined, terminal: Boolean(tty) });
  const ask = (q: string) =>
    new Promise<string>((resolve, reject) => {
      if (tty) process.stderr.write(q);
      muted = true;
      rl.once('line', (l) => {
        muted = false;
        if (tty) process.stderr.write('\n');
        resolve(l);
      });
      rl.once('close', () => reject(new CallbackdError(ErrorCodes.INPUT_INVALID, 'no password given on stdin')));
    });
  try {
    const first = await ask(prompt);
    if (!tty) return first;
    const again = await ask('again: ');
    if (again !== first) throw new CallbackdError(ErrorCodes.INPUT_INVALID, 'the two passwords differ');
    return first;
  } finally {
    rl.close();
  }
}

export function userCommands(program: Command, dbHelp: string, withDbAsync: <T>(o: { db?: string; config?: string }, f: (db: Conn) => Promise<T>) => Promise<T>): void {
  const user = program.command('user').description("people's console sign-in");
  user
    .command('passwd <user>')
    .description('set the console password of a user (users come from the import file); reads it from the terminal, or from stdin when piped; ends the user\'s open sessions')
    .option('--db <file>', dbHelp)
    .option('-c, --config <file>', 'read database.path from this config file')
    .action(async (id: string, o) => {
      const known = await withDbAsync(o, async (db) => Boolean(await getUser(db, id)));
      if (!known) throw new CallbackdError(ErrorCodes.NOT_FOUND, `no user "${id}" (add it under users: in an import file)`);
      const password = await readPassword(`password for ${id}: `);
      await withDbAsync(o, (db) => setPassword(db, id, password, Date.now()));
      console.error(`password set for ${id}; sign in at the console (the API's address, e.g. http://127.0.0.1:8080/)`);
    });
}
