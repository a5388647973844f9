/** What a user's tools need from the environment: the engine the suite uses, CA bundles, proxies, npm settings. */
const TOOL_ENV =
  /^(PATH|HOME|DOCKER_HOST|DOCKER_CONFIG|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|(HTTPS?|NO|ALL)_PROXY|npm_config_.+)$/i;

/**
 * The environment for child processes of the tests that run a user's tools (docker, docker-compose, npm, the
 * stand-in builder): only what those tools need, so nothing else of the developer's shell leaks in.
 */
export function toolEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: "/root" };
  for (const [key, value] of Object.entries(process.env))
    if (value !== undefined && TOOL_ENV.test(key)) env[key] = value;
  return env;
}

/** Connection details of the real services `npm test` starts (scripts/test-services.sh). */
function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the suite with \`npm test\`, which starts the services`);
  return value;
}

export const testEnv = {
  get databaseUrl() {
    return required("TEST_DATABASE_URL");
  },
  get redisUrl() {
    return required("TEST_REDIS_URL");
  },
  /** Where the suite's Docker engine publishes container ports (its network namespace's address). */
  get engineHost() {
    return process.env.TEST_ENGINE_HOST ?? "127.0.0.1";
  },
  /** The Unix socket of the suite's engine (what a compose stack's worker mounts). */
  /** This host's address as containers of the suite's engine (and host-network containers) reach it. */
  get labHost() {
    return process.env.TEST_LAB_HOST ?? "127.0.0.1";
  },
  get dockerSocket() {
    const host = process.env.DOCKER_HOST ?? "";
    return host.startsWith("unix://") ? host.slice("unix://".length) : "/var/run/docker.sock";
  },
  get challengeImage() {
    return process.env.TEST_CHALLENGE_IMAGE ?? "ctf-instancer/challenge-web:latest";
  },
};
