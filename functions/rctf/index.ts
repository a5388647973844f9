import type { RctfAction } from "../../http/rctf-protocol.ts";
import extend from "./extend.ts";
import start from "./start.ts";
import status from "./status.ts";
import stop from "./stop.ts";

/** rCTF's instancer protocol, one action per method (docs/rctf.md); mounted by the host when RCTF_AUTH_TOKEN is set. */
export const rctfActions: readonly RctfAction[] = [status, start, extend, stop] as unknown as readonly RctfAction[];
