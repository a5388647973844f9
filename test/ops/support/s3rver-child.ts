// A real S3 server (s3rver) in its own process: its ListObjectsV2 continuation tokens use DES, which needs
// Node's --openssl-legacy-provider, and a separate process is also what "S3 went down" really looks like.
// argv: directory port bucket. Prints {"port":N} once listening.
import S3rver from "s3rver";

const [directory, port, bucket] = process.argv.slice(2) as [string, string, string];
const server = new S3rver({
  address: "127.0.0.1",
  port: Number(port),
  directory,
  silent: true,
  configureBuckets: [{ name: bucket }],
});
const address = await server.run();
process.stdout.write(JSON.stringify({ port: address.port }) + "\n");
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
