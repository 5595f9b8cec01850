import { WorkflowUpdateFailedError } from '@temporalio/client';
import { collections } from '../../store/collections';
import { noteUpdate } from '../../workflows/conversation/messages';
import type { Harness } from './support';
import { startHarness, users } from './support';

/**
 * SPEC 10's note update on the dev server, without the API: its answer names the note, the timeline and
 * the mention records are written before it answers, and in history it costs the update and one workflow
 * task with the view write's marker: no timer, no activity (nothing is sent). A refused note (not a user)
 * writes nothing to history.
 */
describe('the note update (dev server)', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness({ server: 'dev' });
  });
  afterEach(async () => {
    await h?.stop();
  });

  test('records the note and its mentions before answering, and arms or sends nothing', async () => {
    const c = h.conversation();
    const before = await c.customerWritesAndWait();
    const eventsBefore = (await c.eventTypes()).length;

    const { conversation, messageId } = await c.act(noteUpdate, { actor: users.agent, text: 'double-check the address', mentions: ['manager-1', 'manager-1'] });
    expect(messageId).toBe('note-2');
    expect(conversation).toMatchObject({ status: before.status, unreadCount: before.unreadCount, windowExpiresAt: before.windowExpiresAt, version: before.version + 1 });
    const db = collections(h.db);
    expect(await db.messages.findOne({ _id: `${c.id}/${messageId}` })).toMatchObject({ direction: 'internal', kind: 'note', authorId: 'agent-1', mentions: ['manager-1'] });
    expect(await db.mentions.find({ conversationId: c.id }).toArray()).toEqual([expect.objectContaining({ userId: 'manager-1', by: 'agent-1', messageId, text: 'double-check the address' })]);

    const added = (await c.eventTypes()).slice(eventsBefore);
    expect(added.filter((t) => /TIMER|ACTIVITY_TASK/.test(t))).toEqual([]);
    expect(added).toEqual(expect.arrayContaining(['WORKFLOW_EXECUTION_UPDATE_ACCEPTED', 'MARKER_RECORDED', 'WORKFLOW_EXECUTION_UPDATE_COMPLETED']));
  });

  test('a note from a service is refused (forbidden) and leaves no trace in history', async () => {
    const c = h.conversation();
    await c.customerWritesAndWait();
    await c.act(noteUpdate, { actor: users.agent, text: 'first' }); // past the run's first task (DESIGN.md, "A server quirk")
    const length = (await c.eventTypes()).length;
    const refused = c.act(noteUpdate, { actor: { kind: 'service', serviceId: 'backend' }, text: 'from a bot' });
    await expect(refused).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    await expect(refused).rejects.toMatchObject({ cause: { type: 'forbidden' } });
    expect((await c.eventTypes()).length).toBe(length);
  });
});
