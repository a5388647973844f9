import { createReadStream } from "node:fs";
import type { ObjectStorageClass, ServerSideEncryption } from "@aws-sdk/client-s3";
import { DeleteObjectsCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { MANIFEST_SUFFIX } from "../shared/manifest.ts";

export interface S3Settings {
  bucket: string;
  prefix: string;
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
  checksum: "when_supported" | "when_required";
  sse?: string;
  sseKmsKeyId?: string;
  storageClass?: string;
  partSizeBytes: number;
  queueSize: number;
  /** A connection not made, or a request idle (no byte either way), this long fails; the SDK's default is never. */
  timeoutMs: number;
}

export interface S3Store {
  readonly settings: S3Settings;
  /** Every object under the prefix, following continuation tokens past the 1000-key pages. */
  listKeys(signal?: AbortSignal): Promise<Map<string, number>>;
  /** Uploads a local file (multipart, streamed) and confirms the stored size with HeadObject. */
  putFile(path: string, name: string, size: number, signal?: AbortSignal): Promise<void>;
  deleteNames(names: string[], signal?: AbortSignal): Promise<void>;
  destroy(): void;
}

export function createS3Store(settings: S3Settings): S3Store {
  const mode = settings.checksum === "when_required" ? "WHEN_REQUIRED" : "WHEN_SUPPORTED";
  const client = new S3Client({
    region: settings.region,
    endpoint: settings.endpoint,
    forcePathStyle: settings.forcePathStyle,
    credentials:
      settings.accessKeyId && settings.secretAccessKey
        ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey }
        : undefined,
    requestChecksumCalculation: mode,
    responseChecksumValidation: mode,
    maxAttempts: 3,
    requestHandler: {
      connectionTimeout: Math.min(settings.timeoutMs, 10_000),
      socketTimeout: settings.timeoutMs,
    },
  });
  const key = (name: string) => settings.prefix + name;

  return {
    settings,
    async listKeys(signal) {
      const keys = new Map<string, number>();
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: settings.bucket, Prefix: settings.prefix, ContinuationToken: token }),
          { abortSignal: signal },
        );
        for (const o of page.Contents ?? []) if (o.Key) keys.set(o.Key, o.Size ?? 0);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },
    async putFile(path, name, size, signal) {
      const upload = new Upload({
        client,
        partSize: settings.partSizeBytes,
        queueSize: settings.queueSize,
        leavePartsOnError: false,
        params: {
          Bucket: settings.bucket,
          Key: key(name),
          Body: createReadStream(path, { highWaterMark: 1 << 20 }),
          ServerSideEncryption: settings.sse as ServerSideEncryption | undefined,
          SSEKMSKeyId: settings.sseKmsKeyId,
          StorageClass: settings.storageClass as ObjectStorageClass | undefined,
        },
      });
      const abort = () => void upload.abort();
      signal?.addEventListener("abort", abort, { once: true });
      try {
        signal?.throwIfAborted();
        await upload.done();
      } finally {
        signal?.removeEventListener("abort", abort);
      }
      const head = await client.send(new HeadObjectCommand({ Bucket: settings.bucket, Key: key(name) }), {
        abortSignal: signal,
      });
      if (head.ContentLength !== size)
        throw new Error(`S3 holds ${head.ContentLength} bytes for ${key(name)}, expected ${size}`);
    },
    async deleteNames(names, signal) {
      const keys = names.flatMap((n) => [key(n + MANIFEST_SUFFIX), key(n)]);
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000);
        const r = await client.send(
          new DeleteObjectsCommand({
            Bucket: settings.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
          { abortSignal: signal },
        );
        if (r.Errors?.length)
          throw new Error(`S3 refused ${r.Errors.length} deletes, first: ${r.Errors[0]!.Key} ${r.Errors[0]!.Message}`);
      }
    },
    destroy: () => client.destroy(),
  };
}
