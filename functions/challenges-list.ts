import { z } from "zod";
import { listChallenges } from "../domain/challenges.ts";
import { defineEndpoint } from "../http/endpoint.ts";
import { challengeView, challengeViewSchema } from "./shared/challenge-view.ts";

export default defineEndpoint({
  method: "GET",
  path: "/challenges",
  operationId: "listChallenges",
  auth: "token",
  summary: "The challenge catalogue.",
  responses: { 200: z.object({ challenges: z.array(challengeViewSchema) }) },
  errors: [401, 503],
  async handler({ deps }) {
    return { status: 200, body: { challenges: (await listChallenges(deps.db)).map(challengeView) } };
  },
});
