/**
 * Invariants of the pure core under every preset (SPEC section 3), over random histories: every input
 * type from random actors (mostly the one that would really send it) at never-decreasing times, with
 * timers fired just before, at and after the next deadline. Each step is checked against the state
 * before it, so a failure shrinks to the shortest history that breaks the rule.
 */
import fc from 'fast-check';
import type { Effect, Status } from '../../workflows/conversation/core/lifecycle';
import { capacityHolder } from '../../workflows/conversation/core/lifecycle';
import { effective } from '../../workflows/conversation/core/policy';
import type { Observed } from './lifecycle-arbitraries';
import { historyArb, policies, replay } from './lifecycle-arbitraries';

/** Runs per property and preset; each run is a history of up to `maxSteps` inputs. */
const numRuns = 300;

const reports = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'reportAssignment' ? [e.assigneeId] : []));

describe.each(policies)('preset invariants over random histories: %s', (_name, policy) => {
  const fields = effective(policy);

  function holdsFor(check: (o: Observed) => void, { snapshots = false } = {}): void {
    fc.assert(
      fc.property(historyArb, (history) => replay(policy, history, check, snapshots)),
      { numRuns },
    );
  }

  /** The statuses this policy can reach: the default three plus those its fields switch on. */
  const reachable = new Set<Status>([
    'open',
    'assigned',
    'closed',
    ...(fields.flows ? (['in_flow'] as const) : []),
    ...(fields.csat.enabled ? (['resolved'] as const) : []),
    ...(fields.waitingTimeoutMs !== null ? (['waiting'] as const) : []),
    ...(fields.wrapUpCapacity !== null ? (['wrap_up'] as const) : []),
  ]);

  it('counts every customer message recorded, whatever the lifecycle: inboundCount is the number of inbound records so far, each carrying the count through itself', () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        let recorded = 0;
        let accepted = 0;
        replay(
          policy,
          history,
          ({ before, input, decision }) => {
            if (!decision.ok) return;
            // Told apart from the records: a customer message that changed the conversation (not a redelivery).
            if (input.type === 'customerMessage' && decision.changed) accepted += 1;
            let running = before.inboundCount;
            for (const effect of decision.effects) {
              if (effect.type !== 'recordMessage') continue;
              if (effect.message.direction === 'inbound') {
                recorded += 1;
                running += 1;
              }
              // Every record, outbound ones too, carries the count through itself: what a read mark takes.
              expect(effect.message.inboundCount).toBe(running);
            }
            expect(decision.state.inboundCount).toBe(recorded);
            expect(decision.state.inboundCount).toBe(accepted);
            expect(decision.state.inboundCountFromStart).toBe(true);
          },
          false,
        );
      }),
      { numRuns },
    );
  });

  it('reaches only the statuses the policy switches on', () => {
    holdsFor(({ after }) => {
      if (after) expect(reachable).toContain(after.status);
    });
  });

  it('holds capacity only in the states the preset says: assigned always, wrap-up per wrapUpCapacity, never in waiting, open, closed, in_flow or resolved', () => {
    holdsFor(({ after, now, decision }) => {
      if (!after) return;
      if (after.status === 'assigned') expect(after.heldBy).toBe(after.assigneeId);
      else if (after.status !== 'wrap_up') expect(after.heldBy).toBeNull();
      else if (fields.wrapUpCapacity === 'always') expect(after.heldBy).toBe(after.assigneeId);
      else if (fields.wrapUpCapacity === 'never') expect(after.heldBy).toBeNull();
      // Every change brings heldBy up to date with the clock (a 10m block ends on the next decision at the latest).
      if (decision.ok && decision.changed) expect(after.heldBy).toBe(capacityHolder(after, fields, now));
    });
  });

  it('tells the router of every change of capacity when routing is on, and never when it is manual', () => {
    holdsFor(({ before, after, input, decision }) => {
      if (!after || !decision.ok) return;
      const told = reports(decision.effects);
      // A router offer is answered even under manual (one may be in flight when routing is switched off).
      if (fields.routing.mode === 'manual') {
        if (input.type !== 'routed') expect(told).toEqual([]);
      } else if (after.heldBy !== before.heldBy) {
        expect(told.at(-1)).toBe(after.heldBy);
      }
    });
  });

  it('lets nothing leave closed but a customer message, or a flow when the policy has flows', () => {
    holdsFor(({ before, after, input }) => {
      if (!after || before.status !== 'closed' || after.status === 'closed') return;
      expect(input.type === 'customerMessage' || (input.type === 'flowStart' && fields.flows)).toBe(true);
      expect(after.episode).toBe(before.episode + 1);
    });
  });

  it('never loses a tag once the conversation is closed or resolved when tags lock on close', () => {
    holdsFor(({ before, after }) => {
      if (!fields.lockTagsOnClose || (before.status !== 'closed' && before.status !== 'resolved')) return;
      if (after) expect(after.tags).toEqual(expect.arrayContaining(before.tags));
    });
  });

  it('keeps an assignee in assigned, waiting and wrap-up, and none in open, closed, in_flow or resolved', () => {
    holdsFor(({ after }) => {
      if (!after) return;
      if (after.status === 'assigned' || after.status === 'waiting' || after.status === 'wrap_up') {
        expect(typeof after.assigneeId).toBe('string');
        expect(after.assigneeId).not.toBe('');
      } else {
        expect(after.assigneeId).toBeNull();
      }
    });
  });

  it('changes nothing on a rejected decision', () => {
    holdsFor(({ before, decision, snapshot }) => {
      if (decision.ok) return;
      expect(decision).not.toHaveProperty('state');
      expect(decision.code).toMatch(/^(forbidden|not_assignee|conversation_closed|window_expired|validation_failed|conflict)$/);
      // The state is frozen, so a rule writing to it throws; and the next step starts from it unchanged.
      expect(JSON.stringify(before)).toBe(snapshot);
    }, { snapshots: true });
  });

  it('bumps the version by exactly one per changed decision and keeps the very state otherwise', () => {
    holdsFor(({ before, after, decision, now }) => {
      if (!after || !decision.ok) return;
      if (decision.changed) {
        expect(after.version).toBe(before.version + 1);
        expect(after.updatedAt).toBe(now);
      } else {
        expect(after).toBe(before);
        expect(decision.effects).toEqual([]);
      }
    });
  });

  it('keeps the state plain JSON, safe across continue-as-new', () => {
    holdsFor(({ after }) => {
      if (after) expect(JSON.parse(JSON.stringify(after))).toStrictEqual(after);
    });
  });
});
