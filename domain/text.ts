import { z } from "zod";

/**
 * A string that PostgreSQL can store: its text and jsonb types cannot hold U+0000, and jsonb refuses an unpaired
 * surrogate (text would silently get U+FFFD instead). Both are refused at the boundary as bad input naming the
 * field, instead of failing in the database as a 500.
 */
export const storableString = () =>
  z
    .string()
    // eslint-disable-next-line no-control-regex -- matching NUL is the point
    .regex(/^[^\u0000]*$/, "must not contain NUL characters (\\u0000)")
    .refine((s) => s.isWellFormed(), "must be well-formed Unicode text (no unpaired surrogate such as \\ud800)");
