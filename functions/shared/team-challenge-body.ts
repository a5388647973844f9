import { z } from "zod";
import { idSchema } from "../../domain/ids.ts";

/** Body of assign, remove and other team-scoped operations. */
export const teamChallengeBody = z.strictObject({ team_id: idSchema, challenge_id: idSchema });
