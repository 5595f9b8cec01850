/**
 * Durations as the API writes them ("48h", "30m", "5s", "1h30m", "250ms"). Pure so that the API
 * validates with the same parser the workflow's policy uses.
 */
const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const part = /(\d+)(ms|s|m|h|d)/g;
const whole = /^(?:\d+(?:ms|s|m|h|d))+$/;

/** Milliseconds for a duration string, or undefined when the string is not one. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!whole.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(part)) {
    total += Number(amount) * unitMs[unit as keyof typeof unitMs];
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

/** The shortest exact string for a number of milliseconds: 172800000 -> "48h", 5400000 -> "1h30m". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of ['h', 'm', 's', 'ms'] as const) {
    const size = unitMs[unit];
    const amount = Math.floor(rest / size);
    if (amount > 0) {
      out += `${amount}${unit}`;
      rest -= amount * size;
    }
  }
  return out;
}
