import { z } from "zod";
import { deleteChallenge, getChallenge } from "../domain/challenges.ts";
import { countLive } from "../domain/instances.ts";
import { withTransaction } from "../infra/db.ts";
import { idSchema } from "../domain/ids.ts";
import { defineEndpoint } from "../http/endpoint.ts";
import { AppError } from "../http/errors.ts";

export default defineEndpoint({
  method: "DELETE",
  path: "/challenges/:id",
  operationId: "deleteChallenge",
  auth: "token",
  summary: "Delete a challenge; refused with 409 while it has live instances.",
  params: z.object({ id: idSchema }),
  responses: {},
  errors: [400, 401, 404, 409, 503],
  async handler({ deps }, { params }) {
    await withTransaction(deps.db, async (tx) => {
      // FOR UPDATE waits for assigns holding FOR SHARE, so no instance can slip in after the count.
      if (!(await getChallenge(tx, params.id, "update")))
        throw new AppError("not_found", `unknown challenge '${params.id}'`);
      const live = await countLive(tx, { challengeId: params.id });
      if (live > 0)
        throw new AppError("conflict", `challenge '${params.id}' has ${live} live instance(s); remove them first`, {
          details: { live_instances: live },
        });
      await deleteChallenge(tx, params.id);
    });
    return { status: 204 };
  },
});
