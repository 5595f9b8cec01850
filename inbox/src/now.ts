import { useEffect, useState } from 'preact/hooks';

/**
 * The page's one clock for countdowns (SLA badges, the reply window): a single interval, started for the
 * first component that asks and stopped when the last one leaves, so a list of a hundred rows ticks
 * once a second, not a hundred times.
 */
const listeners = new Set<(now: number) => void>();
let timer: ReturnType<typeof setInterval> | undefined;

function subscribe(listener: (now: number) => void): () => void {
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

/** Now, read again each second while `ticking` (a component with nothing counting down stays still). */
export function useNow(ticking = true): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return undefined;
    setNow(Date.now());
    return subscribe(setNow);
  }, [ticking]);
  return now;
}

