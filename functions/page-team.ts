import { z } from "zod";
import { defineEndpoint } from "../http/endpoint.ts";
import { pageHeaders, webFile } from "./shared/web-assets.ts";

export default defineEndpoint({
  method: "GET",
  path: "/team",
  operationId: "teamPage",
  auth: "public",
  summary:
    "A team's own page (HTML), opened as /team#token=<team token>&challenges=<ids> from the CTF platform; framing is allowed to TEAM_PAGE_FRAME_ANCESTORS.",
  mediaType: "text/html",
  responses: { 200: z.string() },
  errors: [404],
  async handler({ deps }) {
    return {
      status: 200,
      text: await webFile("team.html"),
      headers: pageHeaders(deps.config.TEAM_PAGE_FRAME_ANCESTORS.trim()),
    };
  },
});
