import { randomUUID } from "node:crypto";
import { STATUS_CODES, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { ERROR_STATUS, type ErrorCode } from "./errors.ts";

/** What Node refuses before any route sees the request, in the API's terms. */
function refusal(err: NodeJS.ErrnoException): { code: ErrorCode; message: string } {
  if (err.code === "HPE_HEADER_OVERFLOW")
    return { code: "headers_too_large", message: "the request headers are over the server's limit of 16 KiB" };
  if (err.code === "ERR_HTTP_REQUEST_TIMEOUT")
    return { code: "request_timeout", message: "the request was not received in time" };
  return { code: "bad_request", message: "the request is not valid HTTP" };
}

/**
 * Requests Node's HTTP parser refuses (headers over its limit, bytes that are not HTTP, a request never finished)
 * get the error envelope too, instead of Node's bare status line.
 */
export function answerClientErrors(server: Server): void {
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    const { code, message } = refusal(err);
    const status = ERROR_STATUS[code];
    const requestId = randomUUID();
    const body = JSON.stringify({ error: { code, message, requestId } });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nX-Request-Id: ${requestId}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
