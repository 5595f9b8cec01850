/**
 * Shared setup for the pure routing tests: agents and configs built from readable defaults, a router
 * state reached only through the router's own inputs, and small readers over its state and offers.
 */
import type { AgentPatch, AgentRecord, Offer, RouteRequest, RouterOutcome, RouterState, RoutingConfig } from '../../workflows/routing/routing';
import { initialRouterState, manualRouting, reportAssignment, requestRouting, updateAgent, updateConfig } from '../../workflows/routing/routing';

/** The moment every scenario starts at; `since` values count up from it. */
export const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);

/** An online, active agent with no team, no skill and no capacity limit, unless told otherwise. */
export function agent(userId: string, overrides: Partial<Omit<AgentRecord, 'userId'>> = {}): AgentRecord {
  return { userId, teams: [], skills: [], maxConcurrent: null, active: true, presence: 'online', load: [], lastRoutedSeq: 0, ...overrides };
}

export function config(overrides: Partial<RoutingConfig> = {}): RoutingConfig {
  return { ...manualRouting, mode: 'round_robin', ...overrides };
}

export function router(agents: AgentRecord[], routing: RoutingConfig = config()): RouterState {
  return initialRouterState('acc-1', routing, agents);
}

/** A request from conversation `conversationId` that started waiting at `T0 + since`. */
export function request(conversationId: string, since: number, extra: Partial<Omit<RouteRequest, 'conversationId'>> = {}): RouteRequest {
  return { conversationId, channel: 'wa', attributes: {}, previousAssigneeId: null, since: T0 + since, ...extra };
}

/** Conversation ids `c1` .. `cN`. */
export const conversations = (n: number): string[] => Array.from({ length: n }, (_, i) => `c${i + 1}`);

/** One input the router workflow applies, in the shape its inbox holds. */
export type RouterInput =
  | { type: 'request'; request: RouteRequest }
  | { type: 'report'; conversationId: string; assigneeId: string | null }
  | { type: 'agent'; patch: AgentPatch }
  | { type: 'config'; config: RoutingConfig };

export function apply(state: RouterState, input: RouterInput): RouterOutcome {
  switch (input.type) {
    case 'request':
      return requestRouting(state, input.request);
    case 'report':
      return reportAssignment(state, { conversationId: input.conversationId, assigneeId: input.assigneeId });
    case 'agent':
      return updateAgent(state, input.patch);
    case 'config':
      return updateConfig(state, input.config);
  }
}

/** Applies inputs in order, collecting every offer. */
export function run(state: RouterState, inputs: RouterInput[]): RouterOutcome {
  const offers: Offer[] = [];
  for (const input of inputs) {
    const outcome = apply(state, input);
    state = outcome.state;
    offers.push(...outcome.offers);
  }
  return { state, offers };
}

export const requests = (list: RouteRequest[]): RouterInput[] => list.map((r) => ({ type: 'request', request: r }));
export const report = (conversationId: string, assigneeId: string | null): RouterInput => ({ type: 'report', conversationId, assigneeId });

/** How many conversations count against each agent's capacity. */
export function loads(state: RouterState): Record<string, number> {
  return Object.fromEntries(Object.values(state.agents).map((a) => [a.userId, a.load.length]));
}

/** How many offers each agent got. */
export function offerCounts(offers: Offer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const offer of offers) counts[offer.userId] = (counts[offer.userId] ?? 0) + 1;
  return counts;
}

export const queued = (state: RouterState): string[] => state.queue.map((w) => w.conversationId);
export const offeredTo = (offers: Offer[]): string[] => offers.map((o) => o.userId);
export const offeredConversations = (offers: Offer[]): string[] => offers.map((o) => o.conversationId);

/** Freezes a value all the way down, so a function that mutated its input would throw. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}
