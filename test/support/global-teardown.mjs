// Stops the embedded Postgres the setup started, if it started one.
export default async function globalTeardown() {
  await globalThis.__bosunEmbedded?.stop();
}
