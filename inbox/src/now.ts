import { useEffect, useState } from 'preact/hooks';
import { onEachSecond } from './ticker';

/**
 * Now, read again each second while `ticking`, on the page's one interval (ticker.ts): a component with
 * nothing counting down stays still.
 */
export function useNow(ticking = true): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return undefined;
    setNow(Date.now());
    return onEachSecond(setNow);
  }, [ticking]);
  return now;
}
