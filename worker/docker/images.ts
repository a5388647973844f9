import type Docker from "dockerode";
import { canonicalImageRef } from "../../domain/engine-report.ts";

/** Every reference the engine answers to for its images: tags, digests and ids. */
export async function engineImageRefs(docker: Docker): Promise<string[]> {
  const refs = new Set<string>();
  for (const image of await docker.listImages()) {
    refs.add(image.Id);
    for (const ref of [...(image.RepoTags ?? []), ...(image.RepoDigests ?? [])])
      if (!ref.startsWith("<none>")) refs.add(canonicalImageRef(ref));
  }
  return [...refs].sort();
}
