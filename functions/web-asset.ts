import { z } from "zod";
import { defineEndpoint } from "../http/endpoint.ts";
import { AppError } from "../http/errors.ts";
import { ASSET_TYPES, webFile } from "./shared/web-assets.ts";

export default defineEndpoint({
  method: "GET",
  path: "/assets/:name",
  operationId: "webAsset",
  auth: "public",
  summary: "A script or stylesheet of the dashboard and the team page, built by the project (no CDN).",
  params: z.object({ name: z.string().max(64) }),
  mediaType: ["text/javascript", "text/css"],
  responses: { 200: z.string() },
  errors: [400, 404],
  async handler(_ctx, { params }) {
    const type = ASSET_TYPES[params.name];
    // Only the files the build makes: a name is a key of that list, never a path.
    if (!type || !Object.hasOwn(ASSET_TYPES, params.name)) throw new AppError("not_found", `no asset ${params.name}`);
    return {
      status: 200,
      text: await webFile(params.name),
      headers: { "Content-Type": type, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache" },
    };
  },
});
