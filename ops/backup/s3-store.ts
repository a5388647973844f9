import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import type { CompletedPart, ObjectStorageClass, ServerSideEncryption } from "@aws-sdk/client-s3";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
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

interface Target {
  Bucket: string;
  Key: string;
  ServerSideEncryption?: ServerSideEncryption;
  SSEKMSKeyId?: string;
  StorageClass?: ObjectStorageClass;
}

/** Reads `length` bytes at `position` into `buf` (a view of it is returned); a file shorter than that is an error. */
async function readRange(fh: FileHandle, position: number, length: number, buf: Buffer): Promise<Buffer> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`the file ended ${length - done} bytes early`);
    done += bytesRead;
  }
  return buf.subarray(0, length);
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

  /**
   * Multipart upload read straight from the file: each of `queueSize` uploaders reads its next part into its own
   * buffer, reused from part to part, so memory is part size × queue size whatever the file's size. (lib-storage's
   * Upload assembled each part by concatenating the stream's chunks: ~60 MB more at the peak for 5 MB × 2.) The
   * first failure stops the others and aborts the upload, so no parts are left behind.
   */
  async function uploadParts(fh: FileHandle, target: Target, size: number, signal?: AbortSignal): Promise<void> {
    const { Bucket, Key } = target;
    const mode = await client.config.requestChecksumCalculation();
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({
        ...target,
        ChecksumAlgorithm: mode === "WHEN_SUPPORTED" ? "CRC32" : undefined,
      }),
      { abortSignal: signal },
    );
    const stop = new AbortController();
    const abortSignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    const count = Math.ceil(size / settings.partSizeBytes);
    const parts: CompletedPart[] = [];
    let next = 0;
    const uploader = async () => {
      const buf = Buffer.allocUnsafe(settings.partSizeBytes);
      for (let n = next++; n < count && !stop.signal.aborted; n = next++) {
        const start = n * settings.partSizeBytes;
        const body = await readRange(fh, start, Math.min(settings.partSizeBytes, size - start), buf);
        const part = { Bucket, Key, UploadId, PartNumber: n + 1, Body: body, ContentLength: body.length };
        const r = await client.send(new UploadPartCommand(part), { abortSignal });
        if (!r.ETag) throw new Error(`S3 gave no ETag for part ${n + 1} of ${Key}`);
        parts[n] = {
          PartNumber: n + 1,
          ETag: r.ETag,
          ChecksumCRC32: r.ChecksumCRC32,
          ChecksumCRC32C: r.ChecksumCRC32C,
          ChecksumSHA1: r.ChecksumSHA1,
          ChecksumSHA256: r.ChecksumSHA256,
        };
      }
    };
    try {
      await Promise.all(
        Array.from({ length: Math.min(settings.queueSize, count) }, () =>
          uploader().catch((err: unknown) => {
            stop.abort();
            throw err;
          }),
        ),
      );
      await client.send(
        new CompleteMultipartUploadCommand({ ...target, UploadId, MultipartUpload: { Parts: parts } }),
        {
          abortSignal: signal,
        },
      );
    } catch (err) {
      // Not on the run's signal: an aborted run still removes its parts (bounded by the client's own timeouts).
      await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => {});
      throw err;
    }
  }

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
      const target = {
        Bucket: settings.bucket,
        Key: key(name),
        ServerSideEncryption: settings.sse as ServerSideEncryption | undefined,
        SSEKMSKeyId: settings.sseKmsKeyId,
        StorageClass: settings.storageClass as ObjectStorageClass | undefined,
      };
      const fh = await open(path, "r");
      try {
        if (size <= settings.partSizeBytes) {
          const body = await readRange(fh, 0, size, Buffer.allocUnsafe(size));
          await client.send(new PutObjectCommand({ ...target, Body: body, ContentLength: size }), {
            abortSignal: signal,
          });
        } else await uploadParts(fh, target, size, signal);
      } finally {
        await fh.close();
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
