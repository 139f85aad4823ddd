// Runs an async function over items with at most `limit` in flight; collects every failure
// instead of stopping at the first, so one bad pod does not hold up the rest.
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<unknown[]> {
  const errors: unknown[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        errors.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return errors;
}

/** Throws one error for many (the first as cause), or nothing. */
export function throwIfAny(errors: readonly unknown[], what: string): void {
  if (errors.length === 0) return;
  const first = errors[0];
  throw new Error(`${what}: ${errors.length} failed; first: ${first instanceof Error ? first.message : String(first)}`, { cause: first });
}
