import type { MigrationBuilder } from "node-pg-migrate";

// The images each deployment's Docker engine holds, as its worker last saw them. The API has no Docker access
// (API and worker meet only through the database and the queue); it reads this to warn an organiser who saves a
// challenge whose image the engine lacks.
export async function up(pgm: MigrationBuilder): Promise<void> {
  pgm.sql(`
    CREATE TABLE engine_images (
      deployment   text PRIMARY KEY,
      refs         text[] NOT NULL,
      reported_at  timestamptz NOT NULL DEFAULT now()
    );
  `);
}

export async function down(pgm: MigrationBuilder): Promise<void> {
  pgm.sql("DROP TABLE engine_images;");
}
