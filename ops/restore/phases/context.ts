import type Docker from "dockerode";
import type { Logger } from "../../../infra/logger.ts";
import type { RestoreConfig } from "../config.ts";
import type { Timeline } from "../timeline.ts";

/** What every phase of a run is given: the run's settings and services, and the timeline its steps go into. */
export interface PhaseContext {
  config: RestoreConfig;
  docker: Docker;
  log: Logger;
  runId: string;
  timeline: Timeline;
}
