import { z } from "zod";
import { idSchema } from "../core/ids.ts";
import { INSTANCE_STATES, listInstances } from "../core/instances.ts";
import { defineEndpoint } from "../runtime/endpoint.ts";
import { AppError } from "../runtime/errors.ts";
import { instanceView, instanceViewSchema } from "./shared/instance-view.ts";

const encodeCursor = (createdAt: Date, id: string) =>
  Buffer.from(`${createdAt.toISOString()}|${id}`).toString("base64url");

// Years from 1970 on: every cursor issued is; earlier ones (year 0) PostgreSQL may refuse.
const ISO_MS = /^(19[7-9]\d|[2-9]\d{3})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * A cursor is opaque: only one this endpoint issued is accepted. Its date must be exactly what `toISOString`
 * writes (which PostgreSQL reads), so dates JavaScript parses but PostgreSQL refuses never reach the query.
 */
function decodeCursor(cursor: string): { createdAt: string; id: string } {
  const [createdAt, id, ...rest] = Buffer.from(cursor, "base64url").toString().split("|");
  const valid =
    rest.length === 0 &&
    createdAt !== undefined &&
    ISO_MS.test(createdAt) &&
    !Number.isNaN(Date.parse(createdAt)) &&
    new Date(createdAt).toISOString() === createdAt &&
    z.uuid().safeParse(id).success &&
    encodeCursor(new Date(createdAt), id!) === cursor;
  if (!valid) throw new AppError("invalid_cursor", "query field 'cursor': not a cursor returned by this endpoint");
  return { createdAt: createdAt!, id: id! };
}

export default defineEndpoint({
  method: "GET",
  path: "/instances",
  operationId: "listInstances",
  auth: "token",
  summary: "List instances, newest first, filtered by team, challenge or state; paginated with `cursor`.",
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
