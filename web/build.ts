// Builds the dashboard (/admin) and the team page (/team) into dist/web/: one bundled, minified script per page
// (esbuild), their HTML and one stylesheet, all served by the API host (functions/shared/web-assets.ts). Nothing
// is loaded from elsewhere at run time. Run by `npm run build:web`, by `npm run build` and by the browser tests.
import { copyFile, mkdir, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
export const WEB_DIST = `${root}dist/web`;

export async function buildWeb(): Promise<void> {
  await rm(WEB_DIST, { recursive: true, force: true });
  await mkdir(WEB_DIST, { recursive: true });
  await build({
    entryPoints: { admin: `${root}web/admin/main.ts`, team: `${root}web/team/main.ts` },
    outdir: WEB_DIST,
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2022",
    legalComments: "none",
    logLevel: "warning",
  });
  await Promise.all([
    copyFile(`${root}web/admin/index.html`, `${WEB_DIST}/admin.html`),
    copyFile(`${root}web/team/index.html`, `${WEB_DIST}/team.html`),
    copyFile(`${root}web/shared/style.css`, `${WEB_DIST}/style.css`),
  ]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildWeb();
