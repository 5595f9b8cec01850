/**
 * Test tiers beside `npm test`: the load tier (`npm run test:load`, jest.load.config.js, run by .ci/run)
 * holds the tests whose point is volume or whole-process runs (hundreds of conversations at once, a
 * thousand recipients or messages, full `npm start` shutdowns), so the everyday suite stays quick on two
 * cores. A load test lives beside the tests of its feature and is marked by `loadTest`; `npm test` lists it
 * as skipped, the load tier runs only the marked tests (its testNamePattern matches `[load]`).
 */
export const inLoadTier = (globalThis as { convoflowTestTier?: string }).convoflowTestTier === 'load';

type TestFn = (name: string, fn: () => Promise<unknown>, timeout?: number) => void;

/** A test of the load tier: its name gets `[load]`, and it runs only under `npm run test:load`. */
export const loadTest: TestFn = (name, fn, timeout) => (inLoadTier ? test : test.skip)(`${name} [load]`, fn, timeout);
