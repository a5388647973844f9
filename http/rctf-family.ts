// Mounts rCTF's instancer protocol: one path, the action chosen by the method, the token in the body. The family
// reads its own bodies, so a body too large, not JSON or of the wrong form still gets one of the protocol's two
// shapes instead of the API's error envelope (which rCTF turns into a 500 for the player).
import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { z } from "zod";
import type { AppDeps } from "./deps.ts";
import { AppError, isUnavailable } from "./errors.ts";
import { instancerError, RctfRefusal, type RctfAction, type RefusalStatus } from "./rctf-protocol.ts";

/** rCTF sends its whole compose-like `config` with every default filled in: room for several services. */
export const RCTF_MAX_BODY_BYTES = 64 * 1024;

type HostEnv = { Variables: { requestId: string } };

export const rctfPath = (basePath: string) => `${basePath}/v1/instances/`;

/** Mounts the family when RCTF_AUTH_TOKEN is set; without it nothing answers under RCTF_BASE_PATH. */
export function mountRctf(app: Hono<HostEnv>, deps: AppDeps, actions: readonly RctfAction[]): void {
  const token = deps.config.RCTF_AUTH_TOKEN;
  if (!token) return;
  const path = rctfPath(deps.config.RCTF_BASE_PATH);
  const byMethod = new Map(actions.map((a) => [a.method as string, a]));
  const expected = digest(token);

  app.use(
    path,
    bodyLimit({
      maxSize: RCTF_MAX_BODY_BYTES,
      onError: (c) => reply(c, 400, `the request body is over ${RCTF_MAX_BODY_BYTES} bytes`),
    }),
  );
  app.all(path, async (c) => {
    const requestId = c.get("requestId");
    const log = deps.logger.child({ requestId, protocol: "rctf" });
    const action = byMethod.get(c.req.method);
    if (!action)
      return reply(c, 405, `${c.req.method} is not part of the instancer protocol (POST, PUT, PATCH or DELETE)`);
    try {
      const body = parseBody(await c.req.text());
      if (typeof body.rctfAuthToken !== "string" || !timingSafeEqual(digest(body.rctfAuthToken), expected))
        throw new RctfRefusal(401, "The instancer refused this platform's token. Tell the organisers.");
      if (body.kind !== action.kind)
        throw new RctfRefusal(400, `a ${c.req.method} request carries kind '${action.kind}', not '${show(body.kind)}'`);
      const form = validate(action.form, body);
      const details = await action.handler({ deps, requestId, log }, form);
      return c.json(details, 200);
    } catch (err) {
      if (err instanceof RctfRefusal) return reply(c, err.status, err.message);
      if (isUnavailable(err) || (err instanceof AppError && err.code === "service_unavailable")) {
        log.warn({ err: err instanceof Error ? err.message : String(err) }, "backing service unavailable");
        return reply(c, 500, "The instancer is unavailable for a moment. Try again shortly.");
      }
      log.error({ err }, "rctf action failed");
      return reply(c, 500, `The instancer failed on this request (${requestId}). Try again, or tell the organisers.`);
    }
  });
}

function reply(c: Context, status: RefusalStatus, message: string): Response {
  return c.json(instancerError(message), status);
}

/** Hashed first, so the comparison takes the same time whatever the lengths. */
const digest = (value: string) => createHash("sha256").update(value).digest();

function parseBody(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new RctfRefusal(400, text.trim() === "" ? "the request has no body" : "the request body is not JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new RctfRefusal(400, "the request body is not a JSON object");
  return parsed as Record<string, unknown>;
}

function validate<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const first = result.error.issues[0]!;
  throw new RctfRefusal(400, `field '${first.path.join(".") || "(body)"}': ${first.message}`);
}

const show = (value: unknown) => (typeof value === "string" ? value.slice(0, 64) : typeof value);
