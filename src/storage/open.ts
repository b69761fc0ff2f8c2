// Chooses the engine from a URL: `postgres://` or `postgresql://` selects PostgreSQL; `sqlite:PATH`
// (or `sqlite::memory:`) selects SQLite, with an optional `?synchronous=full`.
import type { Database } from './database.ts';
import { openPostgres } from './postgres.ts';
import { openSqlite, type SqliteSynchronous } from './sqlite.ts';

export function openDatabase(url: string): Database {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return openPostgres({ url });
  if (url.startsWith('sqlite:')) {
    const [path = '', query = ''] = url.slice('sqlite:'.length).split('?', 2);
    if (path === '') throw new TypeError(`database URL ${url}: no SQLite path`);
    const synchronous = new URLSearchParams(query).get('synchronous') ?? 'normal';
    if (synchronous !== 'normal' && synchronous !== 'full') {
      throw new TypeError(`database URL ${url}: synchronous must be normal or full`);
    }
    return openSqlite({ path, synchronous: synchronous satisfies SqliteSynchronous });
  }
  throw new TypeError(`database URL ${url}: expected postgres://... or sqlite:PATH`);
}

/** Shows a URL without its password, for logs. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
