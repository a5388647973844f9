import { defineEndpoint } from "../http/endpoint.ts";
import { buildSummary, summarySchema } from "./shared/summary.ts";

export default defineEndpoint({
  method: "GET",
  path: "/admin/summary",
  operationId: "adminSummary",
  auth: "token",
  summary:
    "The dashboard's overview: capacity in use, live instances per challenge, start latencies and failures over the last hours, backup freshness, the last restore and the maintenance flag.",
  responses: { 200: summarySchema },
  errors: [401, 403, 503],
  async handler({ deps }) {
    return { status: 200, body: await buildSummary(deps) };
  },
});
