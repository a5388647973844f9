import pg from "pg";

export type Db = pg.Pool;
export type DbClient = pg.PoolClient | pg.Pool;

const CONNECT_TIMEOUT_MS = 1500;
// pg's pool uses one setting for two waits: for a new connection, and for a free client when all are busy.
const POOL_WAIT_MS = 15_000;

/** Opens connections under the short timeout, whatever the pool's own setting says. */
class FastConnectClient extends pg.Client {
  constructor(config: pg.ClientConfig) {
    super({ ...config, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  }
}

/**
 * A pool that fails fast on a database that is down (connecting and each statement are bounded), but lets a
 * burst queue for a free client: a busy pool is not an outage.
 */
export function createDb(databaseUrl: string, opts: { max?: number } = {}): Db {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: opts.max ?? 20,
    connectionTimeoutMillis: POOL_WAIT_MS,
    Client: FastConnectClient as unknown as new () => pg.ClientBase,
    query_timeout: 5000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on("error", () => {});
  return pool;
}

export async function withTransaction<T>(db: Db, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await db.connect();
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Runs `fn` while this process holds the PostgreSQL advisory lock named `key`, or returns null at once when another
 * session holds it. The lock lives on its own connection, so a holder that crashes never keeps it.
 */
export async function withExclusiveLock<T>(db: Db, key: string, fn: () => Promise<T>): Promise<{ value: T } | null> {
  const client = await db.connect();
  let held = false;
  let broken: Error | undefined;
  try {
    const res = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok", [
      key,
    ]);
    held = res.rows[0]!.ok;
    return held ? { value: await fn() } : null;
  } finally {
    if (held)
      await client.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [key]).catch((err: Error) => {
        broken = err; // the connection is discarded below, and the lock with it
      });
    client.release(broken);
  }
}
