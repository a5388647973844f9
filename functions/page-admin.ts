import { z } from "zod";
import { defineEndpoint } from "../http/endpoint.ts";
import { pageHeaders, webFile } from "./shared/web-assets.ts";

export default defineEndpoint({
  method: "GET",
  path: "/admin",
  operationId: "adminPage",
  auth: "public",
  summary:
    "The organiser's dashboard (HTML). It asks for an admin token and calls the API with it; the page itself is public and holds no data.",
  mediaType: "text/html",
  responses: { 200: z.string() },
  errors: [404],
  async handler() {
    return { status: 200, text: await webFile("admin.html"), headers: pageHeaders("'none'") };
  },
});
