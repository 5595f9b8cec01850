/**
 * The page's one clock for countdowns (SLA badges, the reply window): a single interval, started for the
 * first listener and stopped when the last one leaves, so a list of a hundred rows ticks once a second,
 * not a hundred times. No Preact here, so test/unit/inbox-pure.test.ts covers it; `useNow` (now.ts)
 * is its hook.
 */
const listeners = new Set<(now: number) => void>();
let timer: ReturnType<typeof setInterval> | undefined;

/** Calls `listener` with the time each second, on the page's one interval; returns the way to stop. */
export function onEachSecond(listener: (now: number) => void): () => void {
  listeners.add(listener);
  timer ??= setInterval(() => {
    const now = Date.now();
    for (const l of listeners) l(now);
  }, 1000);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}
