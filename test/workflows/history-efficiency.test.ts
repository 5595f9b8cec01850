import { collections } from '../../store/collections';
import { replyUpdate } from '../../workflows/conversation/messages';
import { eventually } from '../support/stack';
import type { Harness } from './support';
import { startHarness, users } from './support';

/**
 * What one inbound message costs in history once a conversation is open and settled, read from a real
 * history on the dev server. Deadlines move without new timers, so a message is its signal, one
 * workflow task and the marker of the local activity that writes the views.
 */
describe('history cost of a customer message (dev server)', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness({ server: 'dev' });
  });
  afterEach(async () => {
    await h?.stop();
  });

  test('in steady state each further customer message adds at most 5 history events', async () => {
    const c = h.conversation();
    await c.customerWritesAndWait();
    await c.act(replyUpdate, { actor: users.agent, text: 'Hi!' });
    await c.customerWritesAndWait(); // arms nothing new: the deadlines only move later
    const settled = (await c.eventTypes()).length;

    // Wait on the MongoDB view, as the API reads it, not on the workflow query: with a query polled
    // in a tight loop, most messages cost 8 events (the workflow task is split in two around the
    // persist local activity), which would measure our polling, not the workflow.
    const views = collections(h.db).conversations;
    for (let i = 0; i < 5; i++) {
      const before = (await views.findOne({ _id: c.id }))!.version;
      await c.customerWrites();
      await eventually(async () => ((await views.findOne({ _id: c.id }))!.version > before ? true : undefined));
    }

    const events = (await c.eventTypes()).slice(settled);
    const perMessage: string[][] = [];
    events.forEach((type) => {
      if (type === 'WORKFLOW_EXECUTION_SIGNALED') perMessage.push([]);
      perMessage.at(-1)?.push(type);
    });
    expect(perMessage).toHaveLength(5);
    console.log(`history events per steady-state customer message:\n${perMessage.map((m) => `  ${m.length}: ${m.join(', ')}`).join('\n')}`);
    for (const message of perMessage) expect(message.length).toBeLessThanOrEqual(5);
  });
});
