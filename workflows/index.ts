// The worker's workflow bundle entry point: every workflow type the task queue serves.
export { conversationWorkflow } from './conversation/workflow';
export { accountRouterWorkflow } from './routing/router-workflow';
export { campaignSendWorkflow } from './campaign/workflow';
export { broadcastWorkflow } from './broadcast/workflow';
export { policyPropagationWorkflow } from './policy/workflow';
export { providerReadWorkflow } from './provider-read/workflow';
export { inboundMediaWorkflow } from './media/workflow';
export { webhookInboxWorkflow } from './webhook-inbox/workflow';
