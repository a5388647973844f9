import type { MigrationBuilder } from "node-pg-migrate";

// The worker's report of its engine also carries the engine's CPU count, so the API can warn of a challenge
// asking for more CPUs than the engine has (every start of it would fail).
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    ALTER TABLE engine_images RENAME TO engine_reports;
    ALTER TABLE engine_reports ADD COLUMN cpus integer;
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    ALTER TABLE engine_reports DROP COLUMN cpus;
    ALTER TABLE engine_reports RENAME TO engine_images;
  `);
}
