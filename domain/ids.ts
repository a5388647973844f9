import { z } from "zod";

/** Team and challenge ids: lower-case, digits, `_` and `-`, 1–64 characters, starting alphanumeric. */
export const ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export const idSchema = z
  .string({ error: "must be a string" })
  .regex(ID_PATTERN, "must match [a-z0-9][a-z0-9_-]{0,63} (lower-case letters, digits, _ and -)");

export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/** An instance id as PostgreSQL writes a uuid; a label or cursor of any other form cannot name a row. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
