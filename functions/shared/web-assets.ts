// The built pages (web/build.ts writes them to dist/web/), read once and served with the headers that keep them
// safe: a Content-Security-Policy with no inline script or style, framing only where configured, no sniffing.
import { readFile } from "node:fs/promises";
import { AppError } from "../../http/errors.ts";

// From source (functions/shared/*.ts) the build is in <root>/dist/web; compiled (dist/functions/shared/*.js) it
// sits beside the compiled code, in dist/web.
const DIR = new URL(import.meta.url.endsWith(".ts") ? "../../dist/web/" : "../../web/", import.meta.url);

export const ASSET_TYPES: Record<string, string> = {
  "admin.js": "text/javascript; charset=utf-8",
  "team.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
};

const cache = new Map<string, string>();

/** A built file by name; 404 with a hint when the pages were not built. */
export async function webFile(name: string): Promise<string> {
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  let text: string;
  try {
    text = await readFile(new URL(name, DIR), "utf8");
  } catch {
    throw new AppError("not_found", `${name} is not built: run \`npm run build:web\``);
  }
  cache.set(name, text);
  return text;
}

/** Headers of both pages; `frameAncestors` is who may embed the page. */
export function pageHeaders(frameAncestors: string): Record<string, string> {
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${frameAncestors}`,
  ].join("; ");
  return {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": csp,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    // For browsers that predate frame-ancestors; a page framed by named origins cannot say so here.
    ...(frameAncestors === "'none'" ? { "X-Frame-Options": "DENY" } : {}),
  };
}
