import type { MigrationBuilder } from "node-pg-migrate";

// Challenges as authors write them: named containers and what they expose (null: the single image/port form,
// whose port is reached by its protocol).
// Each instance gets an unguessable slug, its web name under CHALLENGE_DOMAIN, never reused; and once running,
// the endpoints its exposures answer at.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    ALTER TABLE challenges ADD COLUMN containers jsonb, ADD COLUMN expose jsonb,
      ADD COLUMN protocol text NOT NULL DEFAULT 'http' CHECK (protocol IN ('http', 'tcp'));
    ALTER TABLE instances
      ADD COLUMN slug text NOT NULL DEFAULT substr(md5(gen_random_uuid()::text), 1, 20),
      ADD COLUMN endpoints jsonb;
    CREATE UNIQUE INDEX instances_slug_key ON instances (slug);
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    DROP INDEX instances_slug_key;
    ALTER TABLE instances DROP COLUMN slug, DROP COLUMN endpoints;
    ALTER TABLE challenges DROP COLUMN containers, DROP COLUMN expose, DROP COLUMN protocol;
  `);
}
