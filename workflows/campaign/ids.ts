/** The names the API starts campaign sends by (the workflow lives beside this file). */
export const campaignSendWorkflowType = 'campaignSendWorkflow';

/** One workflow per campaign, channel and customer, so a repeated request sends once. */
export function campaignSendWorkflowId(ref: { accountId: string; campaignId: string; channel: string; customer: string }): string {
  return `campaign/${ref.accountId}/${ref.campaignId}/${ref.channel}/${ref.customer}`;
}
