import { z } from "zod";
import { getChallenge } from "../domain/challenges.ts";
import { idSchema } from "../domain/ids.ts";
import { defineEndpoint } from "../http/endpoint.ts";
import { AppError } from "../http/errors.ts";
import { challengeView, challengeViewSchema } from "./shared/challenge-view.ts";

export default defineEndpoint({
  method: "GET",
  path: "/challenges/:id",
  operationId: "getChallenge",
  auth: "token",
  summary: "One challenge with every setting; env values are not shown, only their names.",
  params: z.object({ id: idSchema }),
  responses: { 200: challengeViewSchema },
  errors: [404],
  async handler({ deps }, { params }) {
    const row = await getChallenge(deps.db, params.id);
    if (!row) throw new AppError("not_found", `unknown challenge '${params.id}'`);
    return { status: 200, body: challengeView(row) };
  },
});
