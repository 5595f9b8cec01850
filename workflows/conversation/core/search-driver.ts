/**
 * Which word of a search of several words drives it (api/search.ts): its postings are read newest first
 * and each is checked for the other words, so the word with the fewest postings over the time searched
 * bounds the work. The first `size` postings of each word (a probe, newest first) say it:
 *
 * 1. A probe shorter than `size` holds every posting of its word: the word with the fewest such drives.
 * 2. When every probe is full, each covers `size` postings: the one whose oldest reaches furthest back in
 *    time has the fewest postings per unit of recent time (the sparsest), so it drives. Counting only
 *    would tie ("alfa beta": each has thousands); the length of a word says little ("pedido zebra").
 * 3. Ties: the longer word (fewer words start with it), then the first typed.
 */
export interface TermProbe {
  word: string;
  /** How many postings the probe read (at most `size`). */
  count: number;
  /** How many it asked for. */
  size: number;
  /** The time of its oldest posting read (epoch ms), or null when it read none. */
  oldestAt: number | null;
}

const complete = (p: TermProbe) => p.count < p.size;
const length = (word: string) => [...word].length;

/** -1 when `a` should drive rather than `b`, 1 when `b`, 0 when neither is preferred. */
export function compareDrivers(a: TermProbe, b: TermProbe): number {
  if (complete(a) !== complete(b)) return complete(a) ? -1 : 1;
  if (complete(a)) {
    if (a.count !== b.count) return a.count < b.count ? -1 : 1;
  } else if (a.oldestAt !== b.oldestAt) return (a.oldestAt ?? Infinity) < (b.oldestAt ?? Infinity) ? -1 : 1;
  const [la, lb] = [length(a.word), length(b.word)];
  return la === lb ? 0 : la > lb ? -1 : 1;
}

/** The index of the probe whose word drives (the first of equals). `probes` is not empty. */
export function driverOf(probes: readonly TermProbe[]): number {
  let pick = 0;
  for (let i = 1; i < probes.length; i++) if (compareDrivers(probes[i]!, probes[pick]!) < 0) pick = i;
  return pick;
}
