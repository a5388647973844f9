import type { MigrationBuilder } from "node-pg-migrate";

// Instances move requested → starting → running → stopping → removed; any step may end in failed.
// "Live" states are those holding (or about to hold) a container; at most one live row per (team, challenge).
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    CREATE TABLE challenges (
      id            text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
      image         text NOT NULL CHECK (length(image) BETWEEN 1 AND 255),
      port          integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
      memory_mb     integer NOT NULL DEFAULT 256 CHECK (memory_mb BETWEEN 16 AND 65536),
      cpus          numeric(6,3) NOT NULL DEFAULT 0.5 CHECK (cpus > 0 AND cpus <= 64),
      pids_limit    integer NOT NULL DEFAULT 128 CHECK (pids_limit BETWEEN 8 AND 65536),
      ttl_seconds   integer CHECK (ttl_seconds IS NULL OR ttl_seconds BETWEEN 5 AND 604800),
      env           jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at    timestamptz NOT NULL DEFAULT now(),
      updated_at    timestamptz NOT NULL DEFAULT now()
    );

    CREATE TYPE instance_state AS ENUM ('requested', 'starting', 'running', 'stopping', 'removed', 'failed');

    CREATE TABLE instances (
      id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      team_id       text NOT NULL CHECK (team_id ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
      challenge_id  text NOT NULL,
      state         instance_state NOT NULL DEFAULT 'requested',
      container_id  text,
      host_port     integer,
      address       text,
      error         text,
      request_id    text NOT NULL,
      created_at    timestamptz NOT NULL DEFAULT now(),
      updated_at    timestamptz NOT NULL DEFAULT now(),
      started_at    timestamptz,
      removed_at    timestamptz
    );

    CREATE UNIQUE INDEX instances_one_live_per_team_challenge ON instances (team_id, challenge_id)
      WHERE state IN ('requested', 'starting', 'running', 'stopping');
    CREATE INDEX instances_state_idx ON instances (state, updated_at);
    CREATE INDEX instances_team_idx ON instances (team_id, created_at DESC);

    CREATE TABLE instance_transitions (
      id            bigserial PRIMARY KEY,
      instance_id   uuid NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
      from_state    instance_state,
      to_state      instance_state NOT NULL,
      reason        text,
      at            timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX instance_transitions_instance_idx ON instance_transitions (instance_id, id);

    -- Every state change is recorded and announced, whichever code path made it.
    CREATE FUNCTION instances_record_transition() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO instance_transitions (instance_id, from_state, to_state) VALUES (NEW.id, NULL, NEW.state);
      ELSIF NEW.state IS DISTINCT FROM OLD.state THEN
        INSERT INTO instance_transitions (instance_id, from_state, to_state, reason)
          VALUES (NEW.id, OLD.state, NEW.state, NEW.error);
      ELSE
        RETURN NEW;
      END IF;
      PERFORM pg_notify('instance_state', NEW.id::text || ' ' || NEW.state::text);
      RETURN NEW;
    END $$;

    CREATE TRIGGER instances_transition AFTER INSERT OR UPDATE OF state ON instances
      FOR EACH ROW EXECUTE FUNCTION instances_record_transition();
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    DROP TABLE instance_transitions;
    DROP TABLE instances;
    DROP FUNCTION instances_record_transition();
    DROP TYPE instance_state;
    DROP TABLE challenges;
  `);
}
