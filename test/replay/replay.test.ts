import fs from 'node:fs';
import path from 'node:path';
// Not re-exported from the package root; this is the module the SDK's own replay samples import.
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { sharedBundle } from '../support/stack';
import {
  answerWithinPatch,
  closeInRunPatch,
  durableDedupePatch,
  inputLimitsPatch,
  lightDeliveryPatch,
  outOfOfficePatch,
  patchSet20261207,
  recoverFromStorePatch,
  slaClocksPatch,
  snoozePatch,
  timerLabelPatch,
  viewFollowsPolicyPatch,
} from '../../workflows/conversation/patches';

/**
 * Replays the committed histories of real conversations (recorded by `npm run record:histories`)
 * against today's workflow code. A change that makes the workflow issue different commands for the
 * same history would break every conversation running in production: it fails here first.
 */
const historiesDir = path.join(__dirname, 'histories');
/**
 * Histories recorded by earlier versions of the code stay, each set in a folder named for the change
 * that followed it: conversations started then are still running in production and must keep replaying.
 */
const earlierSets = ['before-delivery', 'before-close-in-run', 'before-view-policy', 'before-security'];
/** The recorder refuses to write a bigger one (record-histories.ts's maxHistoryBytes). */
const maxHistoryBytes = 200 * 1024;
const jsonIn = (dir: string) => fs.readdirSync(path.join(historiesDir, dir)).filter((file) => file.endsWith('.json')).sort();
/** The current recordings. */
const current = jsonIn('.');
/** Every history to replay, as paths under histories/. */
const files = [...current, ...earlierSets.flatMap((set) => jsonIn(set).map((file) => `${set}/${file}`))];

/** A recorded event, as much of it as these tests read. */
type Event = {
  eventType: string;
  markerRecordedEventAttributes?: { markerName: string; details?: Record<string, { payloads: { data: string }[] }> };
  userMetadata?: { summary?: { data: string } };
};
const eventsOf = (file: string): Event[] => JSON.parse(fs.readFileSync(path.join(historiesDir, file), 'utf8')).events;
/** The patch ids a history's markers record, in order. */
const patches = (events: Event[]): string[] =>
  events
    .flatMap((e) => (e.markerRecordedEventAttributes?.markerName === 'core_patch' ? Object.values(e.markerRecordedEventAttributes.details ?? {}) : []))
    .flatMap((d) => d.payloads.map((p) => JSON.parse(Buffer.from(p.data, 'base64').toString('utf8')).id as string));

const readHistory = (file: string) => historyFromJSON(JSON.parse(fs.readFileSync(path.join(historiesDir, file), 'utf8')));

describe('replaying recorded conversation histories', () => {
  test('histories of every recorded scenario are committed', () => {
    // `{scenario}.run{n}.json`, or `{scenario}.{workflow}.run{n}.json` for the scenarios driven through the API.
    const recorded = ['full-lifecycle', 'history-budget', 'open-window-expiry', 'routing', 'status-inbox', 'work-items'];
    const scenariosOf = (dir: string) => [...new Set(jsonIn(dir).map((file) => file.split('.')[0]))].sort();
    const clocks = ['sla', 'sla-carried', 'answer-within', 'out-of-office', 'clocks-carried', 'snooze', 'snooze-carried'];
    expect(scenariosOf('.')).toEqual([...recorded, 'whatsapp', 'recovered-run', 'policy-propagation', ...clocks, 'toolkit', 'webhook-inbox', 'light-delivery', 'patch-set'].sort());
    expect(scenariosOf('before-delivery')).toEqual(recorded);
    expect(scenariosOf('before-close-in-run')).toEqual([...recorded, 'whatsapp'].sort());
    expect(scenariosOf('before-view-policy')).toEqual([...recorded, 'whatsapp'].sort());
    expect(scenariosOf('before-security')).toEqual([...recorded, 'whatsapp'].sort());
  });

  test('every workflow type is covered, the account router, media fetches and read marks included, and every history stays small', () => {
    const types = new Set<string>();
    for (const file of files) {
      const json = JSON.parse(fs.readFileSync(path.join(historiesDir, file), 'utf8'));
      types.add(json.events[0].workflowExecutionStartedEventAttributes.workflowType.name);
      expect([file, fs.statSync(path.join(historiesDir, file)).size <= maxHistoryBytes]).toEqual([file, true]);
    }
    expect([...types].sort()).toEqual(['accountRouterWorkflow', 'campaignSendWorkflow', 'conversationWorkflow', 'inboundMediaWorkflow', 'policyPropagationWorkflow', 'providerReadWorkflow', 'webhookInboxWorkflow']);
    expect(files).toContain('routing.router.run1.json');
  });

  test('the current recordings close and reopen episodes within one run, and the earlier ones continued as new at the close', () => {
    for (const file of ['full-lifecycle.run1.json', 'whatsapp.conversation.run1.json']) {
      expect(current).not.toContain(file.replace('run1', 'run2'));
      const events = eventsOf(file);
      expect([file, patches(events)]).toEqual([file, expect.arrayContaining([closeInRunPatch])]);
      expect(events.map((e) => e.eventType).at(-1)).not.toBe('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
      // The customer writes again after the close (the marker is written at the first close): a reopen in this run.
      const closedAt = events.findIndex((e) => patches([e]).includes(closeInRunPatch));
      expect([file, events.slice(closedAt).some((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED')]).toEqual([file, true]);
    }
    // Before the patch, a close ended the run: the first run of the same scenario continued as new.
    const before = eventsOf('before-close-in-run/full-lifecycle.run1.json');
    expect(patches(before)).not.toContain(closeInRunPatch);
    expect(before.at(-1)!.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
  });

  test('the current recordings label timers with their wake-up and write the view when a policy moves it; the earlier ones did neither', () => {
    const labels = (events: Event[]) =>
      events.filter((e) => e.eventType === 'EVENT_TYPE_TIMER_STARTED').map((e) => JSON.parse(Buffer.from(e.userMetadata!.summary!.data, 'base64').toString('utf8')) as string);
    const now = eventsOf('full-lifecycle.run1.json');
    expect(patches(now)).toEqual(expect.arrayContaining([timerLabelPatch, viewFollowsPolicyPatch, recoverFromStorePatch, durableDedupePatch, inputLimitsPatch]));
    // The set before issue 24 (SPEC section 12) asked none of its patches: they replay by taking the old branches.
    expect(patches(eventsOf('before-security/full-lifecycle.run1.json'))).not.toEqual(expect.arrayContaining([recoverFromStorePatch]));
    // The recorded policy change moves the open conversation's window end: a persist follows it before any other input.
    type Signaled = Event & { workflowExecutionSignaledEventAttributes?: { signalName: string }; markerRecordedEventAttributes?: { markerName: string; details?: Record<string, { payloads: { data: string }[] }> } };
    const signaled = now as Signaled[];
    const policyAt = signaled.findIndex((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'policyChanged');
    expect(policyAt).toBeGreaterThan(0);
    const untilNextInput = signaled.slice(policyAt + 1, signaled.findIndex((e, i) => i > policyAt && e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED'));
    const written = untilNextInput.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
      .flatMap((e) => Object.values(e.markerRecordedEventAttributes!.details ?? {}).flatMap((d) => d.payloads.map((p) => Buffer.from(p.data ?? '', 'base64').toString('utf8'))));
    expect(written.some((text) => text.includes('"activity_type":"persist"'))).toBe(true);
    expect(labels(now).length).toBeGreaterThan(0);
    // Recorded before issue 25: "wake-up at … to check the deadlines"; since then it adds what it was armed for
    // ("wake-up at …, armed for: window closes"). Labels are not commands: both replay; both are accepted here.
    for (const label of labels(now)) expect(label).toMatch(/^wake-up at \S+( to check the deadlines|, armed for: .+)$/);
    const before = eventsOf('before-view-policy/full-lifecycle.run1.json');
    expect(patches(before)).not.toEqual(expect.arrayContaining([timerLabelPatch]));
    expect(patches(before)).not.toEqual(expect.arrayContaining([viewFollowsPolicyPatch]));
    for (const label of labels(before)) expect(label).toMatch(/^(windowExpiry|autoClose)/);
  });

  test('the SLA recordings (SPEC 9) ran with the sla-clocks patch, across continue-as-new; the recordings before it did not ask it', () => {
    const slaRuns = current.filter((file) => /^sla[.-]/.test(file));
    expect(slaRuns.filter((file) => file.startsWith('sla-carried.')).length).toBeGreaterThan(1);
    for (const file of slaRuns) expect([file, patches(eventsOf(file))]).toEqual([file, expect.arrayContaining([slaClocksPatch])]);
    expect(patches(eventsOf('full-lifecycle.run1.json'))).not.toContain(slaClocksPatch);
    // The later SPEC 9 recordings took every clock's patch, each across continue-as-new too.
    const laterRuns = current.filter((file) => /^(answer-within|out-of-office|clocks-carried|snooze)/.test(file));
    expect(laterRuns.filter((file) => /^(clocks|snooze)-carried\./.test(file)).length).toBeGreaterThan(2);
    for (const file of laterRuns) {
      expect([file, patches(eventsOf(file))]).toEqual([file, expect.arrayContaining([slaClocksPatch, answerWithinPatch, outOfOfficePatch, snoozePatch])]);
    }
    for (const file of slaRuns) expect([file, patches(eventsOf(file))]).not.toEqual([file, expect.arrayContaining([snoozePatch])]);
    // The shortened target breaches on the policy signal's own decision: a timer is not needed for it.
    expect(eventsOf('sla.shortened.run1.json').some((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED')).toBe(true);
  });

  test('the light-delivery recording (issue 28) ran with the light-delivery patch; the WhatsApp recording before it did not ask it', () => {
    expect(patches(eventsOf('light-delivery.conversation.run1.json'))).toContain(lightDeliveryPatch);
    expect(patches(eventsOf('whatsapp.conversation.run1.json'))).not.toContain(lightDeliveryPatch);
  });

  test('the patch-set recording (issue 28): each run asks the one patch set, first, and nothing else; the recordings before it asked each patch', () => {
    const runs = current.filter((file) => file.startsWith('patch-set.'));
    expect(runs.length).toBeGreaterThan(1); // continued as new: carried runs take the set too
    for (const file of runs) {
      const events = eventsOf(file);
      expect([file, patches(events)]).toEqual([file, [patchSet20261207]]);
      // One marker and one TemporalChangeVersion upsert, both in the run's first workflow task.
      const firstTask = events.findIndex((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED');
      const marker = events.findIndex((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
      expect([file, marker]).toEqual([file, firstTask + 1]);
      const versionUpserts = events.filter((e) => JSON.stringify(e).includes('TemporalChangeVersion'));
      expect([file, versionUpserts.length]).toEqual([file, 1]);
    }
    // What the set stands for still happened: a send (outbound-delivery), the close in the run, a carried run.
    const all = runs.flatMap((file) => eventsOf(file) as (Event & { activityTaskScheduledEventAttributes?: { activityType: { name: string } } })[]);
    expect(all.some((e) => e.activityTaskScheduledEventAttributes?.activityType.name === 'deliver')).toBe(true);
    const first = eventsOf(runs[0]!) as (Event & { workflowExecutionUpdateAcceptedEventAttributes?: { acceptedRequest: { input: { name: string } } } })[];
    const resolvedAt = first.findIndex((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest.input.name === 'resolve');
    expect(resolvedAt).toBeGreaterThan(0);
    expect(first.slice(resolvedAt).some((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED')).toBe(true); // reopened in the run
    expect(first.at(-1)!.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
    // The recordings before the set asked each patch of a run's start, with an upsert each.
    const before = eventsOf('light-delivery.conversation.run1.json');
    expect(patches(before)).not.toContain(patchSet20261207);
    expect(patches(before).length).toBeGreaterThan(9);
  });

  test("the toolkit recording (SPEC 10) holds a note, and replies of each new kind, with the media fetch's and the read mark's own workflows", () => {
    const events = JSON.parse(fs.readFileSync(path.join(historiesDir, 'toolkit.conversation.run1.json'), 'utf8')).events as Record<string, any>[];
    const updates = events.flatMap((e) => (e.workflowExecutionUpdateAcceptedEventAttributes ? [e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest.input.name as string] : []));
    expect(updates).toEqual(expect.arrayContaining(['note', 'reply', 'template', 'resolve']));
    const replies = events
      .filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest.input.name === 'reply')
      .map((e) => JSON.parse(Buffer.from(e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest.input.args.payloads[0].data, 'base64').toString('utf8')).content.kind);
    expect(replies.sort()).toEqual(['interactive', 'media', 'text']);
    expect(current).toEqual(expect.arrayContaining(['toolkit.media.run1.json', 'toolkit.read.run1.json']));
  });

  test('every recorded history replays on the current workflow code without a determinism violation', async () => {
    const histories = files.map((file) => ({ workflowId: file, history: readHistory(file) }));
    const outcomes: Record<string, string> = {};
    for await (const result of Worker.runReplayHistories({ workflowBundle: await sharedBundle() }, histories)) {
      outcomes[result.workflowId] = result.error ? `${result.error.name}: ${result.error.message}` : 'ok';
    }
    expect(outcomes).toEqual(Object.fromEntries(files.map((file) => [file, 'ok'])));
    // Bundling the workflows and replaying every history took over 60 s on a loaded 2-core machine.
  }, 300_000);

  test.each(['full-lifecycle.run1.json', 'routing.router.run1.json'])('a history whose commands no longer match the code fails the replay (%s)', async (file) => {
    // Rewrite the recorded start input to a history budget of 1: today's code would then continue as
    // new where the history says it did something else, exactly what a non-deterministic change does.
    const json = JSON.parse(fs.readFileSync(path.join(historiesDir, file), 'utf8'));
    const payload = json.events[0].workflowExecutionStartedEventAttributes.input.payloads[0];
    const input = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8'));
    payload.data = Buffer.from(JSON.stringify({ ...input, limits: { historyEventBudget: 1 } })).toString('base64');

    const results = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: await sharedBundle() }, [{ workflowId: 'tampered', history: historyFromJSON(json) }])) {
      results.push(result);
    }
    expect(results).toHaveLength(1);
    expect(results[0]!.error).toBeInstanceOf(DeterminismViolationError);
  });
});
