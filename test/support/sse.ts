import { TEST_TOKEN } from "./stack.ts";

/** Reads server-sent events from the dashboard's stream until `until` returns true for one of them. */
export async function readStream(
  url: string,
  until: (event: string, data: any) => boolean,
  onOpen: () => Promise<void> = async () => {},
): Promise<{ events: { event: string; data: any }[]; type: string | null }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 15_000);
  const res = await fetch(url, { headers: { authorization: `Bearer ${TEST_TOKEN}` }, signal: controller.signal });
  const events: { event: string; data: any }[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let opened = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
        const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? "null");
        events.push({ event, data });
        if (!opened && event === "summary") {
          opened = true;
          await onOpen();
        }
        if (until(event, data)) return { events, type: res.headers.get("content-type") };
      }
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  throw new Error(`stream ended without the awaited event; got ${events.map((e) => e.event).join(", ")}`);
}
