// bench:backup — our backup (the image's `backup now` command) beside raw `pg_dump > file` of the same database, the
// same format and the same compression, in the same run: wall time (median of BENCH_ROUNDS rounds, default 3, run
// one after the other in each round), the ratio to the raw dump, CPU seconds (user + system, children included),
// the raw figure beside ours, the peak RSS of the measured process (ours: the Node process alone; pg_dump and the
// checking processes, pg_restore or gzip and tail, are children of ~10 MB or less each) and the size. The plain `pg_dump -Z1` line is what the popular shell backup images do by default
// (unverified). zstd and lz4 are measured when the pg_dump found takes them (PostgreSQL 16+). BENCH_DB_MB sets the
// database's size (default 1024).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toolVersion } from "../ops/shared/postgres.ts";
import { pgBin } from "../test/ops/support/postgres.ts";
import { startS3 } from "../test/ops/support/s3.ts";
import { fmtS, generateDatabase } from "../test/ops/support/bench.ts";
import { percentile } from "./stats.ts";

const adminUrl = process.env.TEST_DATABASE_URL!;
const sizeMb = Number(process.env.BENCH_DB_MB ?? 1024);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const TIME = "/usr/bin/time";

interface Sample {
  ms: number;
  cpuS?: number;
  peakMb: number;
  bytes: number;
}

/** Runs `sh -c script` (which execs the measured program), sampling VmHWM of that pid every 10 ms. */
async function measure(script: string, env: NodeJS.ProcessEnv, out: () => number): Promise<Sample> {
  const cpuFile = join(dir, "cpu.txt");
  const timed = existsSync(TIME);
  const [cmd, args] = timed ? [TIME, ["-f", "%U %S", "-o", cpuFile, "sh", "-c", script]] : ["sh", ["-c", script]];
  const started = performance.now();
  const child = spawn(cmd, args, { env, stdio: ["ignore", "ignore", "inherit"] });
  // With /usr/bin/time the measured program is time's child: find it once it has exec'd.
  let pid: number | undefined = timed ? undefined : child.pid;
  let peakKb = 0;
  const timer = setInterval(() => {
    try {
      pid ??=
        Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim().split(" ")[0]) || undefined;
      const m = pid ? /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8")) : null;
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {
      /* exited */
    }
  }, 10);
  const code = await new Promise<number | null>((r) => child.once("exit", r));
  clearInterval(timer);
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`${script} exited with ${code}`);
  const cpuS = timed
    ? readFileSync(cpuFile, "utf8")
        .trim()
        .split(/\s+/)
        .slice(-2)
        .reduce((a, b) => a + Number(b), 0)
    : undefined;
  return { ms, cpuS, peakMb: peakKb / 1024, bytes: out() };
}

const median = (xs: number[]) => percentile(xs, 50);

console.log(`generating a ${sizeMb} MB database…`);
const url = await generateDatabase(adminUrl, "bench_backup", sizeMb);
const dir = mkdtempSync(join(tmpdir(), "bench-backup-"));
const s3 = await startS3("bench");
try {
  const pgDump = pgBin("pg_dump");
  const client = await toolVersion(pgDump);
  const newCompression = client.num >= 160000;
  // A compile cache filled as the image's build fills it (warm-cache.sh): every run is a container's first start.
  const compileCache = join(dir, "compile-cache");
  const warmed = spawnSync("sh", ["ops/backup/warm-cache.sh"], {
    env: { ...process.env, NODE_COMPILE_CACHE: compileCache },
    stdio: "inherit",
  });
  if (warmed.status !== 0) throw new Error("ops/backup/warm-cache.sh failed");
  const oursEnv = {
    ...process.env,
    NODE_COMPILE_CACHE: compileCache,
    DATABASE_URL: url,
    PG_DUMP_BIN: pgDump,
    PG_RESTORE_BIN: pgBin("pg_restore"),
    LOG_LEVEL: "warn",
  };
  const fileSize = (path: string) => () => statSync(path).size;
  const newestIn = (sub: string) => () => {
    const name = readdirSync(sub).find((f) => /\.(dump|sql\.gz)$/.test(f))!;
    return statSync(join(sub, name)).size;
  };

  type Case = { label: string; run: () => Promise<Sample>; baseline?: string };
  const raw = (label: string, args: string): Case => ({
    label,
    run: () => {
      const file = join(dir, "raw.out");
      rmSync(file, { force: true });
      return measure(`exec ${pgDump} ${args} --dbname='${url}' > '${file}'`, process.env, fileSize(file));
    },
  });
  // Through the image's own `backup` command (its Node flags, the warmed compile cache); the same pid throughout.
  const ours = (label: string, baseline: string, extra: Record<string, string>): Case => ({
    label,
    baseline,
    run: () => {
      const sub = join(dir, "ours");
      rmSync(sub, { recursive: true, force: true });
      mkdirSync(sub);
      return measure("exec sh ops/backup/backup.sh now", { ...oursEnv, BACKUP_DIR: sub, ...extra }, newestIn(sub));
    },
  });
  const cases: Case[] = [
    raw("raw pg_dump -Fp -Z1 (plain, the shell images' default)", "-Fp -Z1"),
    raw("raw pg_dump -Fc -Z1", "-Fc -Z1"),
    raw("raw pg_dump -Fc (default: -Z6)", "-Fc"),
    ours("ours, default (custom, compression 1, verified)", "raw pg_dump -Fc -Z1", {}),
    ours("ours, BACKUP_FORMAT=plain BACKUP_COMPRESSION=1", "raw pg_dump -Fp -Z1 (plain, the shell images' default)", {
      BACKUP_FORMAT: "plain",
      BACKUP_COMPRESSION: "1",
    }),
    ours("ours, BACKUP_COMPRESSION=6", "raw pg_dump -Fc (default: -Z6)", { BACKUP_COMPRESSION: "6" }),
    ours("ours, default, + upload to s3rver", "raw pg_dump -Fc -Z1", {
      BACKUP_S3_BUCKET: "bench",
      BACKUP_S3_ENDPOINT: s3.endpoint,
      BACKUP_S3_FORCE_PATH_STYLE: "true",
      BACKUP_S3_ACCESS_KEY_ID: "S3RVER",
      BACKUP_S3_SECRET_ACCESS_KEY: "S3RVER",
    }),
  ];
  if (newCompression)
    for (const method of ["zstd", "lz4"]) {
      cases.push(raw(`raw pg_dump -Fc --compress=${method}`, `-Fc --compress=${method}`));
      cases.push(
        ours(`ours, BACKUP_COMPRESSION=${method}`, `raw pg_dump -Fc --compress=${method}`, {
          BACKUP_COMPRESSION: method,
        }),
      );
    }
  else console.log(`pg_dump ${client.text} has no zstd or lz4 (PostgreSQL 16+): not measured`);

  // One untimed dump first, so the first measured run does not pay alone for reading the table into the cache.
  await raw("warm-up", "-Fc -Z1").run();
  const samples = new Map<string, Sample[]>(cases.map((c) => [c.label, []]));
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) samples.get(c.label)!.push(await c.run());
    console.log(`round ${r + 1}/${rounds} done`);
  }

  console.log(`\n${client.text}, ${sizeMb} MB database, medians of ${rounds} rounds`);
  console.log(`${"".padEnd(58)}   time    raw   ratio    CPU  peak RSS     size`);
  for (const c of cases) {
    const s = samples.get(c.label)!;
    const ms = median(s.map((x) => x.ms));
    const base = c.baseline ? median(samples.get(c.baseline)!.map((x) => x.ms)) : undefined;
    const cpu = s[0]!.cpuS === undefined ? "" : `${median(s.map((x) => x.cpuS!)).toFixed(1)} s`;
    console.log(
      `${c.label.padEnd(58)} ${fmtS(ms).padStart(6)} ${(base ? fmtS(base) : "").padStart(6)}` +
        ` ${(base ? (ms / base).toFixed(2) : "").padStart(7)}` +
        ` ${cpu.padStart(6)} ${`${median(s.map((x) => x.peakMb)).toFixed(0)} MB`.padStart(9)}` +
        ` ${`${(median(s.map((x) => x.bytes)) / 1e6).toFixed(0)} MB`.padStart(8)}`,
    );
  }
  console.log("raw: the median of the raw pg_dump of the same format and compression; ratio: ours over raw");
} finally {
  await s3.destroy();
  rmSync(dir, { recursive: true, force: true });
}
