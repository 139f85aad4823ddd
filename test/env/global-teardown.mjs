export default async function globalTeardown() {
  await globalThis.__PINFI_ENV__?.stop();
  globalThis.__PINFI_ENV__ = undefined;
}
