// The API as the pages call it: same origin, the token as a header (never in a URL), errors as the envelope says.

export interface Instance {
  instance_id: string;
  team_id: string;
  challenge_id: string;
  state: string;
  container_address: string | null;
  host_port: number | null;
  error: string | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  removed_at: string | null;
  expires_at: string | null;
  renewable_at: string | null;
  renewals: number;
  state_reason: string | null;
  endpoints: {
    container: string;
    port: number;
    protocol: "http" | "tcp";
    address: string;
    command: string | null;
    url: string | null;
  }[];
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;
  readonly retryAfter: number | null;
  constructor(status: number, code: string, message: string, details: unknown, retryAfter: number | null) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = typeof details === "object" && details !== null ? (details as Record<string, unknown>) : {};
    this.retryAfter = retryAfter;
  }
}

async function errorFrom(res: Response): Promise<ApiError> {
  let envelope: { error?: { code?: string; message?: string; details?: unknown } } = {};
  try {
    envelope = (await res.json()) as typeof envelope;
  } catch {
    /* not the envelope (a proxy's page): the status says enough */
  }
  const retry = Number(res.headers.get("retry-after"));
  return new ApiError(
    res.status,
    envelope.error?.code ?? `http_${res.status}`,
    envelope.error?.message ?? `the server answered ${res.status}`,
    envelope.error?.details,
    Number.isFinite(retry) && retry > 0 ? retry : null,
  );
}

export async function call<T>(
  token: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const res = await fetch(path, {
    method,
    cache: "no-store",
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw await errorFrom(res);
  return (await res.json()) as T;
}

/**
 * Reads a server-sent event stream with fetch (EventSource cannot send an Authorization header) and calls
 * `onEvent` for each event until the stream ends or `signal` aborts.
 */
export async function readEvents(
  token: string,
  path: string,
  signal: AbortSignal,
  onOpen: () => void,
  onEvent: (event: string, data: string) => void,
): Promise<void> {
  const res = await fetch(path, {
    headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
    cache: "no-store",
    signal,
  });
  if (!res.ok || !res.body) throw await errorFrom(res);
  onOpen();
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (!line || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
      }
      if (data.length) onEvent(event, data.join("\n"));
    }
  }
}
