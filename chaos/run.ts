import { BenchStack } from '../bench/stack';
import { startGraphForStack } from '../bench/whatsapp';
import type { FakeGraph } from '../test/support/fake-graph';
import type { ChaosContext, Outcome } from './scenarios';
import { scenarios } from './scenarios';

/**
 * `npm run chaos [-- --quick] [-- --only=1,3]`: the fault-injection scenarios against the real stack, each
 * ending with a verdict and the counts behind it; the last line is `N passed, N failed`, and the exit
 * code is non-zero if any scenario failed.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const onlyArg = args.find((a) => a.startsWith('--only='));
  const only = onlyArg ? new Set(onlyArg.slice('--only='.length).split(',').map(Number)) : undefined;
  const t0 = Date.now();
  const log = (line: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}`);
  log(`convoflow chaos${quick ? ' (quick)' : ''}: starting a Temporal dev server and FerretDB in a temporary folder`);
  const stack = await BenchStack.start({ log });
  const outcomes: Outcome[] = [];
  let crashed = false;
  let graph: FakeGraph | undefined;
  try {
    // Before the worker: every worker of the run sends WhatsApp Cloud API messages to this fake.
    graph = await startGraphForStack(stack);
    await stack.startWorker();
    await stack.startApi();
    log(`stack ready: worker pid ${stack.workers[0]!.pid}, API pid ${stack.apis[0]!.proc.pid}; logs in ${stack.runDir}/logs`);
    const ctx: ChaosContext = {
      stack,
      api: () => stack.apis[0]!,
      quick,
      conversations: quick ? 200 : 1_000,
      messagesEach: quick ? 2 : 3,
      outageMs: 20_000,
      graph,
      log,
    };
    for (const [i, scenario] of scenarios.entries()) {
      if (only && !only.has(i + 1)) continue;
      log(`== ${i + 1}. ${scenario.name}`);
      let outcome: Outcome;
      try {
        outcome = await scenario.run(ctx);
      } catch (error) {
        outcome = { name: scenario.name, passed: false, counts: {}, notes: [`scenario error: ${error instanceof Error ? error.stack : String(error)}`] };
      }
      outcomes.push(outcome);
      log(`   ${outcome.passed ? 'PASS' : 'FAIL'}: ${Object.entries(outcome.counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      for (const note of outcome.notes.slice(0, 12)) log(`     ${note}`);
    }
  } catch (error) {
    crashed = true;
    log(`chaos run failed: ${error instanceof Error ? error.stack : String(error)}`);
  } finally {
    const failedAny = crashed || outcomes.some((o) => !o.passed);
    log(failedAny ? `stopping every process (keeping ${stack.runDir} for its logs)` : 'stopping every process');
    await stack.stop({ keepDir: failedAny });
    await graph?.close();
  }
  const passed = outcomes.filter((o) => o.passed).length;
  const failed = outcomes.length - passed + (crashed ? 1 : 0);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
