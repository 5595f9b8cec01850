import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { ServiceError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { NamespaceNotFoundError } from '@temporalio/common';
import { toApiError, UnreadableBody } from '../../api/errors';

describe('errors the API answers for Temporal trouble', () => {
  test('an update that timed out or was cancelled in flight is 503 unavailable, not 500: a retry is safe', () => {
    const error = toApiError(new WorkflowUpdateRPCTimeoutOrCancelledError('Deadline exceeded after 15.000s', { cause: new Error('4 DEADLINE_EXCEEDED') }));
    expect(error.code).toBe('unavailable');
    expect(error.message).toMatch(/Idempotency-Key/);
  });

  test('gRPC UNAVAILABLE anywhere in the cause chain is 503 unavailable', () => {
    expect(toApiError(Object.assign(new Error('outer'), { cause: Object.assign(new Error('14 UNAVAILABLE'), { code: 14 }) })).code).toBe('unavailable');
  });

  const grpcError = (code: number, details: string) => Object.assign(new Error(`${code} ${details}`), { code, details });

  test.each([
    ['an unregistered search attribute', new ServiceError('Failed to signalWithStart Workflow', { cause: grpcError(3, 'Namespace default has no mapping defined for search attribute AccountId') }), /AccountId/],
    ['a namespace that does not exist', new NamespaceNotFoundError('convoflow-prod'), /namespace convoflow-prod does not exist/],
    ['a namespace NOT_FOUND the SDK did not type', new ServiceError('Failed', { cause: grpcError(5, 'Namespace convoflow-prod is not found.') }), /convoflow-prod/],
    ['credentials the cluster refuses', new ServiceError('Failed', { cause: grpcError(7, 'Request unauthorized.') }), /credentials/],
  ])('%s is 503 unavailable naming what Temporal said and the fix, never 500 internal', (_, thrown, said) => {
    const error = toApiError(thrown);
    expect(error.code).toBe('unavailable');
    expect(error.message).toMatch(said);
    expect(error.message).toMatch(/setup:temporal/);
  });

  test('an invalid argument that is not about configuration stays internal', () => {
    expect(toApiError(new ServiceError('Failed', { cause: grpcError(3, 'WorkflowId is not set') })).code).toBe('internal');
  });

  test('anything unknown is 500 internal', () => {
    expect(toApiError(new Error('boom')).code).toBe('internal');
  });
});

describe('errors a body parser fails with (SPEC section 12 "Bodies")', () => {
  const parserError = (fields: Record<string, unknown>) => Object.assign(new Error('parser said something'), { body: '{"secret":1', ...fields });

  test.each([
    [{ type: 'entity.too.large', status: 413, limit: 262_144 }, undefined, 413, 'payload_too_large', /256 KiB/],
    [{ type: 'encoding.unsupported', status: 415, encoding: 'x-bogus' }, 'x-bogus', 400, 'validation_failed', /content-encoding: x-bogus/],
    [{ type: 'charset.unsupported', status: 415, charset: 'latin-7' }, undefined, 400, 'validation_failed', /charset=latin-7/],
    [{ type: 'entity.parse.failed', status: 400 }, undefined, 400, 'validation_failed', /not valid JSON/],
    [{ type: 'entity.verify.failed', status: 403 }, undefined, 400, 'validation_failed', /verification/],
    [{ type: 'request.aborted', status: 400 }, undefined, 400, 'validation_failed', /aborted/],
    [{ type: 'request.size.invalid', status: 400 }, undefined, 400, 'validation_failed', /content-length/],
    [{ type: 'stream.encoding.set', status: 500 }, undefined, 400, 'validation_failed', /could not be read/],
    [{ code: 'Z_DATA_ERROR', errno: -3, status: 400 }, 'gzip', 400, 'validation_failed', /not valid gzip data/],
    [{ code: 'ERR__ERROR_FORMAT_PADDING_1', errno: -14, status: 400 }, 'br', 400, 'validation_failed', /not valid br data/],
    [{ type: 'some.future.type', status: 400 }, undefined, 400, 'validation_failed', /could not be read/],
  ])('%o answers %s %s, never quoting the body', (fields, encoding, status, code, message) => {
    const error = toApiError(new UnreadableBody(parserError(fields), encoding));
    expect([error.status, error.code]).toEqual([status, code]);
    expect(error.message).toMatch(message);
    expect(error.message).not.toMatch(/secret|parser said/);
  });
});

describe('the error map', () => {
  /**
   * Type-checks api/errors.ts with one entry of the map removed, as a change to the lifecycle's
   * RejectionCode without a matching entry would look: it must not compile.
   */
  test('a rejection code missing from errorStatus is a type error', () => {
    const file = path.resolve(__dirname, '../../api/errors.ts');
    const source = fs.readFileSync(file, 'utf8');
    const withoutWindowExpired = source.replace(/^\s*window_expired: 409,\n/m, '');
    expect(withoutWindowExpired).not.toBe(source);
    const config = ts.getParsedCommandLineOfConfigFile(path.resolve(__dirname, '../../tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
    const host = ts.createCompilerHost(config.options);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (name, version, ...rest) =>
      path.resolve(name) === file ? ts.createSourceFile(name, withoutWindowExpired, version) : getSourceFile(name, version, ...rest);
    const program = ts.createProgram({ rootNames: [file], options: { ...config.options, noEmit: true }, host });
    const messages = program.getSemanticDiagnostics(program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(messages.join('\n')).toContain('window_expired');
  }, 60_000);
});
