import { randomUUID } from "node:crypto";
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { z } from "zod";
import { REQUEST_ID_PATTERN } from "../domain/ids.ts";
import { assertMayActFor, createAuthenticator, type Principal } from "./auth.ts";
import type { AppDeps } from "./deps.ts";
import type { Endpoint } from "./endpoint.ts";
import { AppError, envelope, isUnavailable } from "./errors.ts";

export const MAX_BODY_BYTES = 16 * 1024;

type Env = { Variables: { requestId: string } };

/** The Hono host: mounts every endpoint with request ids, auth, input validation and one error envelope. */
export function createApp(deps: AppDeps, endpoints: readonly Endpoint[]): Hono<Env> {
  const app = new Hono<Env>();
  const authenticate = createAuthenticator(deps.config.API_TOKENS, deps.config.TEAM_TOKEN_SECRET);

  app.use(async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
    c.set("requestId", requestId);
    c.header("X-Request-Id", requestId);
    const started = performance.now();
    await next();
    deps.logger.info(
      {
        requestId,
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      "request",
    );
  });

  for (const ep of endpoints) {
    const limit = bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new AppError("payload_too_large", `request body exceeds ${MAX_BODY_BYTES} bytes`);
      },
    });
    if (ep.body) app.on(ep.method, ep.path, limit);
    app.on(ep.method, ep.path, async (c) => {
      const principal: Principal | null =
        ep.auth === "public" ? null : await authenticate(c.req.header("authorization"));
      if (ep.auth === "token" && principal?.kind === "team")
        throw new AppError("forbidden", "a team token cannot use this endpoint; it needs an admin token");
      const input = {
        body: ep.body ? validate(ep.body, await readJson(c), "body") : undefined,
        query: ep.query ? validate(ep.query, singleQuery(c), "query") : undefined,
        params: ep.params ? validate(ep.params, c.req.param(), "path") : undefined,
      };
      if (principal && ep.teamOf) {
        const team = ep.teamOf(input);
        if (team !== undefined) assertMayActFor(principal, team);
      }
      const requestId = c.get("requestId");
      const result = await ep.handler(
        { deps, requestId, log: deps.logger.child({ requestId }), principal, hono: c, endpoints },
        input,
      );
      if (result.response) return result.response;
      for (const [k, v] of Object.entries(result.headers ?? {})) c.header(k, v);
      if (result.text !== undefined) return c.body(result.text, result.status as 200);
      if (result.status === 204 || result.body === undefined) return c.body(null, result.status);
      return c.json(result.body, result.status);
    });
  }

  app.notFound((c) => {
    throw new AppError("not_found", `no endpoint ${c.req.method} ${c.req.path}`);
  });

  app.onError((err, c) => {
    const requestId = c.get("requestId") ?? randomUUID();
    let appErr: AppError;
    if (err instanceof AppError) appErr = err;
    else if (isUnavailable(err)) {
      deps.logger.warn({ requestId, err: err.message }, "backing service unavailable");
      appErr = new AppError("service_unavailable", "a backing service is unavailable; retry shortly", {
        headers: { "Retry-After": "5" },
      });
    } else {
      deps.logger.error({ requestId, err }, "unhandled error");
      appErr = new AppError("internal_error", "internal error");
    }
    for (const [k, v] of Object.entries(appErr.headers ?? {})) c.header(k, v);
    c.header("X-Request-Id", requestId);
    return c.json(envelope(appErr, requestId), appErr.status);
  });

  return app;
}

async function readJson(c: Context): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type))
    throw new AppError("unsupported_media_type", "Content-Type must be application/json");
  const text = await c.req.text();
  let protoKey = false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, (key, value: unknown) => {
      if (key === "__proto__") protoKey = true;
      return value;
    });
  } catch {
    throw new AppError("invalid_json", "request body is not valid JSON");
  }
  // Validation would drop this key silently (on a plain object it is the prototype, not data): refuse it instead.
  if (protoKey) throw new AppError("validation_failed", "body: the key '__proto__' is not accepted");
  return parsed;
}

/** The query as one value per name; a repeated name is refused rather than narrowed to one of its values. */
function singleQuery(c: Context): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, values] of Object.entries(c.req.queries())) {
    if (values.length > 1)
      throw new AppError("validation_failed", `query field '${name}': given ${values.length} times; give it once`);
    out[name] = values[0]!;
  }
  return out;
}

function validate<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  const first = details[0]!;
  const label = first.path ? `${where} field '${first.path}'` : where;
  throw new AppError("validation_failed", `${label}: ${first.message}`, { details });
}
