/**
 * Runs `fn` over `items` with at most `concurrency` at once, collecting results in order. The API uses
 * it to fan a webhook's items out to Temporal without opening a thousand calls at once; the bench and
 * chaos harnesses to shape their load.
 */
export async function mapLimit<T, R>(items: T[], concurrency: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return out;
}
