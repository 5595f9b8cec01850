import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { ServiceError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { NamespaceNotFoundError } from '@temporalio/common';
import { toApiError } from '../../api/errors';

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
