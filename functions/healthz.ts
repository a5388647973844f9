import { z } from "zod";
import { defineEndpoint } from "../http/endpoint.ts";

export default defineEndpoint({
  method: "GET",
  path: "/healthz",
  operationId: "getHealth",
  auth: "public",
  summary: "Liveness: the process answers. Does not touch PostgreSQL or Redis.",
  responses: { 200: z.object({ status: z.literal("ok") }) },
  async handler() {
    return { status: 200, body: { status: "ok" as const } };
  },
});
