import type { MigrationBuilder } from "node-pg-migrate";

// A challenge may carry Swarm placement constraints and a CPU reservation below its limit (ENGINE=swarm). A cluster's worker cannot list the images
// every node has (each node pulls its own), so an engine report may leave its image refs unknown.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    ALTER TABLE challenges ADD COLUMN placement text[] NOT NULL DEFAULT '{}';
    ALTER TABLE challenges ADD COLUMN cpus_reserved numeric(6,3) CHECK (cpus_reserved > 0 AND cpus_reserved <= cpus);
    ALTER TABLE engine_reports ALTER COLUMN refs DROP NOT NULL;
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    UPDATE engine_reports SET refs = '{}' WHERE refs IS NULL;
    ALTER TABLE engine_reports ALTER COLUMN refs SET NOT NULL;
    ALTER TABLE challenges DROP COLUMN placement, DROP COLUMN cpus_reserved;
  `);
}
