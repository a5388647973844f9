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
  get challengeImage() {
    return process.env.TEST_CHALLENGE_IMAGE ?? "ctf-instancer/challenge-web:latest";
  },
};
