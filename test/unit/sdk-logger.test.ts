import { Writable } from 'node:stream';
import { createLogger } from '../../infra/logger';
import { sdkLoggerOf } from '../../worker/sdk-logger';

/** The Temporal SDK's failures reach our log with their message: a failed activity must say why. */
describe('sdkLoggerOf', () => {
  const linesOf = (write: (logger: ReturnType<typeof sdkLoggerOf>) => void): Record<string, unknown>[] => {
    const lines: string[] = [];
    const capture = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    write(sdkLoggerOf(createLogger({ level: 'trace', destination: capture })));
    return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  };

  test('an Error passed as `error` is written with its name, message and stack', () => {
    const line = linesOf((sdk) => sdk.warn('Activity failed', { error: new TypeError('no pos on row'), activityType: 'persist' }))[0]!;
    expect(line).toMatchObject({ sdk: true, activityType: 'persist', msg: 'Activity failed', err: { type: 'TypeError', message: 'no pos on row' } });
    expect((line.err as { stack: string }).stack).toContain('no pos on row');
    expect(line).not.toHaveProperty('error');
  });

  test('other metadata, and an `error` that is not an Error, pass as they are', () => {
    const line = linesOf((sdk) => sdk.error('odd', { error: 'a string', n: 1 }))[0]!;
    expect(line).toMatchObject({ sdk: true, error: 'a string', n: 1, msg: 'odd', level: 50 });
    const bare = linesOf((sdk) => sdk.info('bare'))[0]!;
    expect(bare).toMatchObject({ sdk: true, msg: 'bare' });
  });
});
