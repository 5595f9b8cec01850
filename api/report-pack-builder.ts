import type { ApiDeps } from './deps';
import type { PackBuilderOptions } from '../store/episode-pack-builder';
import { PackBuilder } from '../store/episode-pack-builder';

/**
 * Every API process runs the reports' pack builder (store/episode-pack-builder.ts) every `everyMs`
 * (REPORT_PACKS_EVERY), one tick at a time, until its stream hub closes (the API's close path). A tick
 * that fails (the store away) is logged and the next one tries again; it never ends the process.
 */
export function startReportPackBuilder(deps: ApiDeps, everyMs: number, options: PackBuilderOptions = {}): () => void {
  const builder = new PackBuilder(deps.collections, options);
  let running = false;
  let stopped = false;
  const timer = setInterval(() => {
    if (running || stopped) return;
    running = true;
    builder
      .tick()
      .then((tick) => {
        for (const b of tick.built) deps.log.info({ accountId: b.accountId, month: b.month, summaryPack: b.summary?.packed ?? null, rowPack: b.rows?.packed ?? null, rows: b.rows?.rows }, 'report packs built');
      })
      .catch((error: unknown) => deps.log.warn({ err: error }, 'report pack builder failed; the next tick retries'))
      .finally(() => {
        running = false;
      });
  }, everyMs);
  timer.unref();
  const stop = () => {
    stopped = true;
    clearInterval(timer);
  };
  deps.streams.onClose(stop);
  return stop;
}
