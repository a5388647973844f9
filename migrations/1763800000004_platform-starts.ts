import type { MigrationBuilder } from "node-pg-migrate";

// What a CTF platform asked for when it started an instance through its own protocol (rCTF): the flags the
// instance must carry, and its lifetime. The lifetime is applied by the database when the instance starts running,
// so the worker's own transition to `running` honours it without knowing about platforms.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    CREATE TABLE platform_starts (
      instance_id  uuid PRIMARY KEY REFERENCES instances (id) ON DELETE CASCADE,
      flags        jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(flags) = 'array'),
      ttl_seconds  integer CHECK (ttl_seconds IS NULL OR ttl_seconds > 0),
      created_at   timestamptz NOT NULL DEFAULT now()
    );

    CREATE OR REPLACE FUNCTION instances_platform_ttl() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE ttl integer;
    BEGIN
      SELECT ttl_seconds INTO ttl FROM platform_starts WHERE instance_id = NEW.id;
      IF ttl IS NOT NULL THEN
        NEW.expires_at := now() + make_interval(secs => ttl);
      END IF;
      RETURN NEW;
    END $$;

    CREATE TRIGGER instances_platform_ttl BEFORE UPDATE OF state ON instances
      FOR EACH ROW WHEN (NEW.state = 'running' AND OLD.state IS DISTINCT FROM 'running')
      EXECUTE FUNCTION instances_platform_ttl();
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    DROP TRIGGER instances_platform_ttl ON instances;
    DROP FUNCTION instances_platform_ttl();
    DROP TABLE platform_starts;
  `);
}
