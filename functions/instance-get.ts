import { z } from "zod";
import { getInstance } from "../domain/instances.ts";
import { defineEndpoint } from "../http/endpoint.ts";
import { assertMayActFor } from "../http/auth.ts";
import { AppError } from "../http/errors.ts";
import { instanceView, instanceViewSchema } from "./shared/instance-view.ts";

export default defineEndpoint({
  method: "GET",
  path: "/instances/:id",
  operationId: "getInstance",
  auth: "team",
  summary: "One instance: its state, address once running, and the reason when it failed.",
  params: z.object({ id: z.uuid({ error: "must be an instance id (UUID)" }) }),
  responses: { 200: instanceViewSchema },
  errors: [400, 401, 403, 404, 503],
  async handler({ deps, principal }, { params }) {
    const row = await getInstance(deps.db, params.id);
    if (!row) throw new AppError("not_found", `no instance ${params.id}`);
    if (principal) assertMayActFor(principal, row.team_id);
    return { status: 200, body: instanceView(row, deps.config) };
  },
});
