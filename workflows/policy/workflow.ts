/**
 * Policy propagation as durable background work (SPEC section 12, issue 24 item 9). The API stores a
 * new policy version, then signal-with-starts this workflow (id `policy-propagation/{accountId}`) and
 * answers. One activity pass pages through the account's conversation views that are not closed and
 * signals each with the newest stored policy, a bounded number at a time, heartbeating its progress (a
 * retry resumes after the last conversation done). A newer version arriving during a pass cancels it
 * and starts another, which tells the newer policy; the workflow ends when no version is left to tell.
 */
import { ActivityCancellationType, CancellationScope, isCancellation, proxyActivities, setCurrentDetails, setHandler } from '@temporalio/workflow';
import type { PolicyActivities } from '../../activities/policy-activities';
import type { PolicyPropagationInput, PolicyPropagationResult } from './messages';
import { policyStoredSignal } from './messages';

const { propagatePolicy } = proxyActivities<PolicyActivities>({
  startToCloseTimeout: '10m',
  // A dead worker is noticed within 30 s; the pass's heartbeats also deliver the cancellation of a superseded pass.
  heartbeatTimeout: '30s',
  // A superseded pass is left at once: it may tell a few more conversations the older policy before its
  // next heartbeat brings the cancellation, which they ignore once they hold the newer one.
  cancellationType: ActivityCancellationType.TRY_CANCEL,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

export async function policyPropagationWorkflow(input: PolicyPropagationInput): Promise<PolicyPropagationResult> {
  let wanted = input.version;
  let pass: CancellationScope | undefined;
  let passVersion = 0;
  setHandler(policyStoredSignal, ({ version }) => {
    if (version <= wanted) return;
    wanted = version;
    // The pass under way tells an older policy: stop it, the next one tells this.
    pass?.cancel();
  });

  let told: PolicyPropagationResult = { version: 0, signalled: 0 };
  // The newest version a finished pass covered: the one it was asked for, or the newer one it found stored.
  let done = 0;
  while (done < wanted) {
    passVersion = wanted;
    setCurrentDetails(`Telling the conversations of account ${input.accountId} that are not closed about policy version ${passVersion}`);
    pass = new CancellationScope();
    try {
      told = await pass.run(() => propagatePolicy({ accountId: input.accountId, version: passVersion }));
      done = Math.max(passVersion, told.version);
    } catch (error) {
      if (!isCancellation(error) || wanted <= passVersion) throw error;
    } finally {
      pass = undefined;
    }
  }
  setCurrentDetails(`Told ${told.signalled} conversations of account ${input.accountId} about policy version ${told.version}`);
  return told;
}
