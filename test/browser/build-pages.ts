// Vitest global setup: the pages are built once, before any test file runs, so test files running in parallel
// never serve a half-written build.
import { buildWeb } from "../../web/build.ts";

export default async function setup(): Promise<void> {
  await buildWeb();
}
