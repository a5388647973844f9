import type { DbClient } from "../infra/db.ts";

/** A DNS label as the gateway passes it: what a route can be (the slug, or `<slug>-<n>`). */
export const ROUTE_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export interface RouteTarget {
  instanceId: string;
  /** `host:port` where the gateway reaches the exposure. */
  upstream: string;
}

/**
 * The upstream of the `http` endpoint served at `route`, if a running instance has one. Only `running` rows
 * route: removal moves the row to `stopping` before its containers go, so a name stops answering before its
 * port can be handed to another instance; and a slug belongs to one row forever, so a name never reaches the
 * containers of a later assignment. The slug is the route itself or the route without its `-<n>` suffix, which
 * keeps the lookup on the unique slug index.
 */
export async function findRoute(db: DbClient, route: string): Promise<RouteTarget | null> {
  const res = await db.query<{ id: string; upstream: string }>(
    `SELECT i.id, e->>'upstream' AS upstream
       FROM instances i, jsonb_array_elements(i.endpoints) e
      WHERE i.slug IN ($1, regexp_replace($1, '-[0-9]+$', ''))
        AND i.state = 'running'
        AND e->>'route' = $1
        AND e->>'protocol' = 'http'
      LIMIT 1`,
    [route],
  );
  const row = res.rows[0];
  return row ? { instanceId: row.id, upstream: row.upstream } : null;
}
