import { z } from "zod";
import { idSchema, UUID_PATTERN } from "../domain/ids.ts";
import type { Db } from "../infra/db.ts";
import { getInstance, INSTANCE_STATES, listInstances } from "../domain/instances.ts";
import { defineEndpoint } from "../http/endpoint.ts";
import { AppError } from "../http/errors.ts";
import { instanceView, instanceViewSchema } from "./shared/instance-view.ts";

/**
 * A cursor names the last instance of a page; the next page is what sorts after it, compared in PostgreSQL at
 * the timestamp's full precision (a millisecond date in the cursor would skip rows created within the same
 * millisecond). It is opaque: anything but an encoded id of an existing instance is refused.
 */
const encodeCursor = (id: string) => Buffer.from(id).toString("base64url");

async function decodeCursor(db: Db, cursor: string): Promise<string> {
  const id = Buffer.from(cursor, "base64url").toString();
  if (!UUID_PATTERN.test(id) || encodeCursor(id) !== cursor || !(await getInstance(db, id)))
    throw new AppError("invalid_cursor", "query field 'cursor': not a cursor returned by this endpoint");
  return id;
}

export default defineEndpoint({
  method: "GET",
  path: "/instances",
  operationId: "listInstances",
  auth: "team",
  // A team token lists its own team's instances; naming another team is refused.
  teamOf: ({ query }) => query.team_id,
  summary:
    "List instances, newest first, filtered by team, challenge or state; paginated with `cursor`. A team token sees its own team's only.",
  query: z.strictObject({
    team_id: idSchema.optional(),
    challenge_id: idSchema.optional(),
    state: z.enum(INSTANCE_STATES).optional(),
    // Plain decimal digits only: Number() would also read "0x10", " 5" or "1e2".
    limit: z
      .string()
      .regex(/^(200|1\d\d|[1-9]\d?)$/, "must be a whole number from 1 to 200")
      .transform(Number)
      .default(50)
      .describe("Page size, 1–200 (default 50)"),
    cursor: z.string().max(200).optional(),
  }),
  responses: { 200: z.object({ instances: z.array(instanceViewSchema), next_cursor: z.string().nullable() }) },
  errors: [400, 401, 403, 503],
  async handler({ deps, principal }, { query }) {
    const rows = await listInstances(deps.db, {
      teamId: principal?.kind === "team" ? principal.teamId : query.team_id,
      challengeId: query.challenge_id,
      state: query.state,
      limit: query.limit + 1,
      afterId: query.cursor ? await decodeCursor(deps.db, query.cursor) : undefined,
    });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      status: 200,
      body: {
        instances: page.map((r) => instanceView(r, deps.config)),
        next_cursor: rows.length > query.limit && last ? encodeCursor(last.id) : null,
      },
    };
  },
});
