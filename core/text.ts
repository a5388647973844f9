import { z } from "zod";

/**
 * A string that PostgreSQL can store: its text and jsonb types cannot hold U+0000, so a NUL is refused at the
 * boundary as bad input (naming the field) instead of failing in the database as a 500.
 */
// eslint-disable-next-line no-control-regex -- matching NUL is the point
export const storableString = () => z.string().regex(/^[^\u0000]*$/, "must not contain NUL characters (\\u0000)");
