import { z } from "zod";
import { defineEndpoint } from "../http/endpoint.ts";

export default defineEndpoint({
  method: "GET",
  path: "/metrics",
  operationId: "getMetrics",
  auth: "token",
  summary:
    "Prometheus text: instances by state, remaining capacity, queue depth, process metrics (start latency and failures by reason are on the worker's metrics port).",
  mediaType: "text/plain",
  responses: { 200: z.string() },
  errors: [401],
  async handler({ deps }) {
    return {
      status: 200,
      text: await deps.metrics.metrics(),
      headers: { "Content-Type": deps.metrics.contentType },
    };
  },
});
