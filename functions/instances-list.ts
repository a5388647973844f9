import { z } from "zod";
import { idSchema } from "../core/ids.ts";
import { INSTANCE_STATES, listInstances } from "../core/instances.ts";
import { defineEndpoint } from "../runtime/endpoint.ts";
import { AppError } from "../runtime/errors.ts";
import { instanceView, instanceViewSchema } from "./shared/instance-view.ts";

const encodeCursor = (createdAt: Date, id: string) =>
  Buffer.from(`${createdAt.toISOString()}|${id}`).toString("base64url");

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  const [createdAt, id] = Buffer.from(cursor, "base64url").toString().split("|");
  if (!createdAt || !id || Number.isNaN(Date.parse(createdAt)) || !z.uuid().safeParse(id).success)
    throw new AppError("validation_failed", "query field 'cursor': not a cursor returned by this endpoint");
  return { createdAt, id };
}

export default defineEndpoint({
  method: "GET",
  path: "/instances",
  auth: "token",
  summary: "List instances, newest first, filtered by team, challenge or state; paginated with `cursor`.",
  query: z.strictObject({
    team_id: idSchema.optional(),
    challenge_id: idSchema.optional(),
    state: z.enum(INSTANCE_STATES).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(200).optional(),
  }),
  responses: { 200: z.object({ instances: z.array(instanceViewSchema), next_cursor: z.string().nullable() }) },
  errors: [400, 401, 503],
  async handler({ deps }, { query }) {
    const rows = await listInstances(deps.db, {
      teamId: query.team_id,
      challengeId: query.challenge_id,
      state: query.state,
      limit: query.limit + 1,
      after: query.cursor ? decodeCursor(query.cursor) : undefined,
    });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      status: 200,
      body: {
        instances: page.map((r) => instanceView(r, deps.config.RENEW_WINDOW_SECONDS)),
        next_cursor: rows.length > query.limit && last ? encodeCursor(last.created_at, last.id) : null,
      },
    };
  },
});
