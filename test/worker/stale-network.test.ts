import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { challengeSpecSchema } from "../../domain/challenges.ts";
import { containersOf, exposuresOf } from "../../domain/challenge-shape.ts";
import { createAndStart } from "../../worker/docker/containers.ts";
import { ensureInstanceNetwork, removeNetwork } from "../../worker/docker/networks.ts";
import { docker, removeDeploymentResources } from "../support/docker.ts";
import { testEnv } from "../support/env.ts";

const deployment = `stale${randomBytes(3).toString("hex")}`;
const labels = { deployment, instanceId: randomUUID(), teamId: "t1", challengeId: "web100", requestId: "r1" };

describe("a reused container whose network was made again", () => {
  afterAll(() => removeDeploymentResources(deployment));

  it("is made anew on the network that exists now, and runs", async () => {
    const challenge = {
      ...challengeSpecSchema.parse({ image: testEnv.challengeImage, port: 80 }),
      image: testEnv.challengeImage,
      port: 80,
      protocol: "http" as const,
      id: "web100",
      created_at: new Date(),
      updated_at: new Date(),
    };
    const plan = (network: string) => ({
      labels,
      challenge,
      containers: containersOf(challenge),
      exposures: exposuresOf(challenge),
      def: containersOf(challenge)[0]!,
      network,
      bindAddress: testEnv.engineHost,
      env: {},
      allowedCapabilities: [],
    });
    const network = await ensureInstanceNetwork(docker, labels, false);
    const first = await createAndStart(docker, plan(network));
    await first.stop({ t: 0 });
    // What an engine that lost its network store leaves: the container names a network id that is gone.
    await removeNetwork(docker, network);
    await ensureInstanceNetwork(docker, labels, false);
    const newNetworkId = (await docker.getNetwork(network).inspect()).Id;

    const second = await createAndStart(docker, plan(network));
    const state = await second.inspect();
    expect(state.State.Running).toBe(true);
    expect(state.NetworkSettings.Networks[network]?.NetworkID).toBe(newNetworkId);
  });
});
