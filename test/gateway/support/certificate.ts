import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * A self-signed certificate laid out as certbot does (`<live>/<primary>/fullchain.pem` and `privkey.pem`),
 * valid for every name given. Returns the certificate PEM, to be trusted as its own CA by the client.
 */
export async function writeSelfSignedCertificate(liveDir: string, names: string[]): Promise<string> {
  // Made beside the final directory and renamed into place, so a watcher never sees half a pair.
  const staging = join(liveDir, `.${names[0]}.new`);
  await mkdir(staging, { recursive: true, mode: 0o755 });
  const key = join(staging, "privkey.pem");
  const cert = join(staging, "fullchain.pem");
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "2",
    "-subj",
    `/CN=${names[0]}`,
    "-addext",
    `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}`,
    "-keyout",
    key,
    "-out",
    cert,
  ]);
  await chmod(key, 0o600);
  const pem = await readFile(cert, "utf8");
  const final = join(liveDir, names[0]!);
  if (existsSync(final)) {
    // A renewal: replace the files one by one, as certbot moves its symlinks.
    await rename(key, join(final, "privkey.pem"));
    await rename(cert, join(final, "fullchain.pem"));
    await rm(staging, { recursive: true, force: true });
  } else await rename(staging, final);
  return pem;
}
