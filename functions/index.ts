import type { Endpoint } from "../http/endpoint.ts";
import adminEvents from "./admin-events.ts";
import adminRemoveAll from "./admin-remove-all.ts";
import adminSummary from "./admin-summary.ts";
import assign from "./assign.ts";
import challengeDelete from "./challenge-delete.ts";
import challengeGet from "./challenge-get.ts";
import challengePut from "./challenge-put.ts";
import challengesList from "./challenges-list.ts";
import extend from "./extend.ts";
import flagsVerify from "./flags-verify.ts";
import healthz from "./healthz.ts";
import instanceGet from "./instance-get.ts";
import instancesList from "./instances-list.ts";
import metrics from "./metrics.ts";
import openapi from "./openapi.ts";
import pageAdmin from "./page-admin.ts";
import pageTeam from "./page-team.ts";
import readyz from "./readyz.ts";
import remove from "./remove.ts";
import webAsset from "./web-asset.ts";
import routeLookup from "./route-lookup.ts";

/** Every endpoint the host mounts. A test fails when a file in functions/ is missing here. */
export const endpoints: readonly Endpoint[] = [
  assign,
  remove,
  extend,
  flagsVerify,
  instancesList,
  instanceGet,
  challengesList,
  challengeGet,
  challengePut,
  challengeDelete,
  healthz,
  readyz,
  metrics,
  openapi,
  adminSummary,
  adminEvents,
  adminRemoveAll,
  pageAdmin,
  pageTeam,
  webAsset,
  routeLookup,
] as unknown as readonly Endpoint[];
