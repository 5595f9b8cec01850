import { ApplicationFailure } from '@temporalio/common';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { classifyTemporalFailure } from '../../activities/temporal-failures';
import { conversationView, toConversationView } from '../../api/conversation-views';
import type { ConversationDoc } from '../../store/collections';
import type { ConversationView } from '../../workflows/conversation/core/view';

const full: ConversationView = {
  id: 'conv:acme:wa:+1',
  accountId: 'acme',
  channel: 'wa',
  customer: '+1',
  customerName: null,
  status: 'open',
  assigneeId: null,
  episode: 1,
  unreadCount: 0,
  lastCustomerMessageAt: null,
  windowExpiresAt: null,
  autoCloseAt: null,
  closedReason: null,
  closedAt: null,
  campaignId: null,
  tags: [],
  archived: false,
  csatScore: null,
  heldBy: null,
  lastActivityAt: null,
  lastMessage: null,
  waitingSince: null,
  inboundCount: 0,
  inboundCountFromStart: true,
  team: null,
  priority: 'normal',
  sla: { firstResponseDueAt: null, nextResponseDueAt: null, resolutionDueAt: null, breached: [], paused: false },
  snoozedUntil: null,
  updatedAt: null,
  version: 3,
};

describe('one conversation view for REST, SSE and OpenAPI', () => {
  test('a stored view that lacks the fields FerretDB drops answers them as the schema says: null, [] or false', () => {
    const stored = { _id: full.id, accountId: 'acme', channel: 'wa', customer: '+1', status: 'open', episode: 1, unreadCount: 0, version: 3 } as unknown as ConversationDoc;
    // The counter's two fields are optional (views written before it lack them): nothing fills them in.
    const { inboundCount: _count, inboundCountFromStart: _fromStart, ...filled } = full;
    expect(toConversationView(stored)).toEqual(filled);
    expect(conversationView.parse(toConversationView(stored))).toEqual(filled);
  });

  test("the workflow's view (SSE) and the stored view of the same conversation (REST) answer the same", () => {
    const { id, ...rest } = full;
    expect(toConversationView({ ...full, tags: ['vip'] })).toEqual(toConversationView({ _id: id, ...rest, tags: ['vip'] }));
  });

  test('fields a view has are kept as they are, and fields of user callers only are not invented', () => {
    const view = toConversationView({ ...full, assigneeId: 'ana', archived: true });
    expect(view).toMatchObject({ assigneeId: 'ana', archived: true });
    expect(view).not.toHaveProperty('readUpToSeq');
    expect(view).not.toHaveProperty('unreadForMe');
  });
});

describe('Temporal failures, classified once for the API and the activities', () => {
  test('an update refused with a typed ApplicationFailure is a rejection carrying its code and message', () => {
    const error = new WorkflowUpdateFailedError('failed', ApplicationFailure.create({ type: 'window_expired', message: 'the 24h window is over', nonRetryable: true }));
    expect(classifyTemporalFailure(error)).toEqual({ kind: 'rejected', type: 'window_expired', message: 'the 24h window is over' });
  });

  test('a missing workflow is not_found, gRPC UNAVAILABLE is unavailable, and anything else is not Temporal\'s', () => {
    expect(classifyTemporalFailure(new WorkflowNotFoundError('gone', 'conv:a:b:c', undefined))).toEqual({ kind: 'not_found' });
    expect(classifyTemporalFailure(Object.assign(new Error('outer'), { cause: Object.assign(new Error('14 UNAVAILABLE'), { code: 14 }) }))).toEqual({ kind: 'unavailable' });
    expect(classifyTemporalFailure(new Error('boom'))).toBeUndefined();
  });
});
