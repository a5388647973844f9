import type { MigrationBuilder } from "node-pg-migrate";

// Lifecycle at event scale: expiry and renewal, why a row changed state, per-challenge hardening choices, and
// per-(team, challenge) flags that outlive containers.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    ALTER TABLE challenges
      ADD COLUMN cap_add         text[]  NOT NULL DEFAULT '{}',
      ADD COLUMN read_only       boolean NOT NULL DEFAULT false,
      ADD COLUMN egress          boolean NOT NULL DEFAULT false,
      ADD COLUMN restart_on_exit boolean NOT NULL DEFAULT false,
      ADD COLUMN flag_format     text CHECK (flag_format IS NULL OR (position('{}' in flag_format) > 0 AND length(flag_format) <= 200));

    ALTER TABLE instances
      ADD COLUMN expires_at    timestamptz,
      ADD COLUMN renewals      integer NOT NULL DEFAULT 0,
      ADD COLUMN state_reason  text,
      ADD COLUMN restarts      integer NOT NULL DEFAULT 0;
    CREATE INDEX instances_expiry_idx ON instances (expires_at) WHERE state = 'running';

    -- The recorded reason is the failure when there is one, else why the state changed (e.g. expired).
    CREATE OR REPLACE FUNCTION instances_record_transition() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO instance_transitions (instance_id, from_state, to_state) VALUES (NEW.id, NULL, NEW.state);
      ELSIF NEW.state IS DISTINCT FROM OLD.state THEN
        INSERT INTO instance_transitions (instance_id, from_state, to_state, reason)
          VALUES (NEW.id, OLD.state, NEW.state, COALESCE(NEW.error, NEW.state_reason));
      ELSE
        RETURN NEW;
      END IF;
      PERFORM pg_notify('instance_state', NEW.id::text || ' ' || NEW.state::text);
      RETURN NEW;
    END $$;

    CREATE TABLE issued_flags (
      team_id       text NOT NULL,
      challenge_id  text NOT NULL,
      flag          text NOT NULL,
      issued_at     timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (team_id, challenge_id)
    );
    CREATE UNIQUE INDEX issued_flags_by_value ON issued_flags (challenge_id, flag);

    CREATE TABLE flag_submissions (
      id             bigserial PRIMARY KEY,
      team_id        text NOT NULL,
      challenge_id   text NOT NULL,
      result         text NOT NULL CHECK (result IN ('correct', 'wrong', 'other_team')),
      owner_team_id  text,
      request_id     text NOT NULL,
      submitted_at   timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX flag_submissions_cheats ON flag_submissions (challenge_id, submitted_at) WHERE result = 'other_team';
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    DROP TABLE flag_submissions;
    DROP TABLE issued_flags;
    DROP INDEX instances_expiry_idx;
    ALTER TABLE instances DROP COLUMN expires_at, DROP COLUMN renewals, DROP COLUMN state_reason,
      DROP COLUMN restarts;
    ALTER TABLE challenges DROP COLUMN cap_add, DROP COLUMN read_only, DROP COLUMN egress,
      DROP COLUMN restart_on_exit, DROP COLUMN flag_format;
  `);
}
