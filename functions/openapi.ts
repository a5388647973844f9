import { z } from "zod";
import { defineEndpoint } from "../http/endpoint.ts";
import { buildOpenApi } from "../http/openapi.ts";
import { rctfOpenApiPaths } from "../http/rctf-openapi.ts";
import { rctfActions } from "./rctf/index.ts";

export default defineEndpoint({
  method: "GET",
  path: "/openapi.json",
  operationId: "getOpenApi",
  auth: "public",
  summary: "This API's OpenAPI 3 description.",
  responses: { 200: z.record(z.string(), z.unknown()) },
  async handler({ endpoints, deps }) {
    return { status: 200, body: buildOpenApi(endpoints, "0.1.0", rctfOpenApiPaths(deps.config, rctfActions)) };
  },
});
