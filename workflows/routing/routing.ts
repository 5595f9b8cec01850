/**
 * Automatic assignment (SPEC section 4) as pure functions over the router's state: who is eligible,
 * which rule picks the team, which agent gets the next conversation, and who waits. No IO, no clock:
 * the per-account router workflow (router-workflow.ts) feeds it and delivers its offers.
 *
 * The router is the single authority for agents' load, so two conversations routed at the same
 * instant are decided one after the other and can never both take an agent's last free slot.
 */

export type Presence = 'online' | 'away' | 'offline';
export type RoutingMode = 'manual' | 'round_robin' | 'least_loaded';

export interface RoutingRule {
  /** Every key must equal the message's `channel` or attribute of that name. An empty match matches all. */
  match: Record<string, string>;
  team: string;
  /** Skills the agent must have (languages, for example "pt"). */
  skills?: string[];
}

export interface RoutingConfig {
  mode: RoutingMode;
  rules: RoutingRule[];
  /** Prefer the conversation's previous assignee when they are eligible. */
  sticky: boolean;
  /** The team that gets conversations no rule matched; null means any agent of the account. */
  fallbackTeam: string | null;
  /** When an agent goes offline, their assigned conversations return to routing (to open under manual). */
  releaseOnOffline: boolean;
}

export const manualRouting: RoutingConfig = { mode: 'manual', rules: [], sticky: false, fallbackTeam: null, releaseOnOffline: false };

export interface AgentRecord {
  userId: string;
  teams: string[];
  skills: string[];
  /** Null: no limit. */
  maxConcurrent: number | null;
  active: boolean;
  presence: Presence;
  /** Conversations counted against capacity: assigned to this agent, or offered and not yet taken. */
  load: string[];
  /** Sequence of the agent's last automatic assignment; round robin picks the smallest. */
  lastRoutedSeq: number;
}

export interface RouteRequest {
  conversationId: string;
  channel: string;
  attributes: Record<string, string>;
  previousAssigneeId: string | null;
  /** When the conversation started waiting, epoch ms: the queue drains oldest first. */
  since: number;
  /** A team chosen by a transfer or a flow instead of the rules. */
  team?: string | null;
  /**
   * Users not to offer it to while anyone else is eligible (SPEC 9: those who left it unanswered this
   * episode). Absent or empty: nobody is avoided.
   */
  avoid?: string[];
}

export interface Waiting {
  conversationId: string;
  team: string | null;
  skills: string[];
  rule: string;
  previousAssigneeId: string | null;
  since: number;
  /** See `RouteRequest.avoid`; absent on entries queued by older code. */
  avoid?: string[];
}

export interface Offer {
  conversationId: string;
  userId: string;
  /** Which rule chose the team: `rules[2]`, `fallback`. */
  rule: string;
}

export interface RouterState {
  accountId: string;
  config: RoutingConfig;
  agents: Record<string, AgentRecord>;
  queue: Waiting[];
  seq: number;
}

export interface RouterOutcome {
  state: RouterState;
  offers: Offer[];
}

export type AgentPatch = Partial<Omit<AgentRecord, 'userId' | 'load' | 'lastRoutedSeq'>> & { userId: string };

export function hasCapacity(agent: AgentRecord): boolean {
  return agent.maxConcurrent === null || agent.load.length < agent.maxConcurrent;
}

export function isEligible(agent: AgentRecord, waiting: Pick<Waiting, 'team' | 'skills'>): boolean {
  return (
    agent.active &&
    agent.presence === 'online' &&
    hasCapacity(agent) &&
    (waiting.team === null || agent.teams.includes(waiting.team)) &&
    waiting.skills.every((skill) => agent.skills.includes(skill))
  );
}

/** The first rule whose every key equals the message's channel or attribute, else the fallback. */
export function matchRule(config: RoutingConfig, request: Pick<RouteRequest, 'channel' | 'attributes'>): Pick<Waiting, 'team' | 'skills' | 'rule'> {
  const facts: Record<string, string> = { ...request.attributes, channel: request.channel };
  const index = config.rules.findIndex((rule) => Object.entries(rule.match).every(([key, value]) => facts[key] === value));
  if (index < 0) return { team: config.fallbackTeam, skills: [], rule: 'fallback' };
  const rule = config.rules[index]!;
  return { team: rule.team, skills: rule.skills ?? [], rule: `rules[${index}]` };
}

/** Picks among eligible agents by the mode; ties go to the least recently routed, then the user id. */
function pick(state: RouterState, waiting: Waiting): AgentRecord | undefined {
  const all = Object.values(state.agents).filter((agent) => isEligible(agent, waiting));
  // Those to avoid get it only when nobody else is eligible (SPEC 9, answer or reroute); sticky routing
  // included: the previous assignee is usually the very user who left it unanswered.
  const preferred = waiting.avoid && waiting.avoid.length > 0 ? all.filter((agent) => !waiting.avoid!.includes(agent.userId)) : all;
  const eligible = preferred.length > 0 ? preferred : all;
  if (eligible.length === 0) return undefined;
  if (state.config.sticky && waiting.previousAssigneeId !== null) {
    const previous = eligible.find((agent) => agent.userId === waiting.previousAssigneeId);
    if (previous) return previous;
  }
  const byRotation = (a: AgentRecord, b: AgentRecord) => a.lastRoutedSeq - b.lastRoutedSeq || (a.userId < b.userId ? -1 : 1);
  const order =
    state.config.mode === 'least_loaded' ? (a: AgentRecord, b: AgentRecord) => a.load.length - b.load.length || byRotation(a, b) : byRotation;
  return eligible.sort(order)[0];
}

function clone(state: RouterState): RouterState {
  return {
    ...state,
    agents: Object.fromEntries(Object.entries(state.agents).map(([id, a]) => [id, { ...a, load: [...a.load] }])),
    queue: [...state.queue],
  };
}

/**
 * Gives waiting conversations to eligible agents, oldest first, until nobody eligible is left for
 * anyone waiting. Called after every change that can make someone eligible.
 */
function drain(state: RouterState, offers: Offer[]): void {
  if (state.config.mode === 'manual') return;
  const stillWaiting: Waiting[] = [];
  for (const waiting of state.queue) {
    const agent = pick(state, waiting);
    if (!agent) {
      stillWaiting.push(waiting);
      continue;
    }
    state.seq += 1;
    agent.lastRoutedSeq = state.seq;
    agent.load.push(waiting.conversationId);
    offers.push({ conversationId: waiting.conversationId, userId: agent.userId, rule: waiting.rule });
  }
  state.queue = stillWaiting;
}

function removeEverywhere(state: RouterState, conversationId: string): void {
  for (const agent of Object.values(state.agents)) {
    const at = agent.load.indexOf(conversationId);
    if (at >= 0) agent.load.splice(at, 1);
  }
  state.queue = state.queue.filter((w) => w.conversationId !== conversationId);
}

/** A conversation became open and wants an agent: offer one now, or queue it for its team. */
export function requestRouting(base: RouterState, request: RouteRequest): RouterOutcome {
  const state = clone(base);
  const offers: Offer[] = [];
  if (state.config.mode === 'manual') return { state: base, offers };
  removeEverywhere(state, request.conversationId);
  const choice = request.team ? { team: request.team, skills: [], rule: 'team' } : matchRule(state.config, request);
  const avoid = request.avoid && request.avoid.length > 0 ? { avoid: [...request.avoid] } : {};
  state.queue.push({ conversationId: request.conversationId, previousAssigneeId: request.previousAssigneeId, since: request.since, ...choice, ...avoid });
  state.queue.sort((a, b) => a.since - b.since);
  drain(state, offers);
  return { state, offers };
}

/**
 * The conversation says who has it now (null: nobody, or it is not assigned). This is the ground
 * truth for load: it confirms an offer, corrects one that lost a race with a manual claim, counts
 * manual assignments, and frees capacity when the conversation leaves `assigned`.
 */
export function reportAssignment(base: RouterState, report: { conversationId: string; assigneeId: string | null }): RouterOutcome {
  const state = clone(base);
  const offers: Offer[] = [];
  const current = Object.values(state.agents).find((a) => a.load.includes(report.conversationId));
  if (current?.userId === report.assigneeId) return { state: base, offers };
  removeEverywhere(state, report.conversationId);
  if (report.assigneeId !== null) {
    // A manual assignment counts even beyond capacity: a supervisor may overload an agent on purpose.
    const agent = (state.agents[report.assigneeId] ??= newAgent(report.assigneeId));
    agent.load.push(report.conversationId);
  }
  drain(state, offers);
  return { state, offers };
}

/**
 * An agent's profile, presence or activity changed: someone may have become eligible. (Taking their
 * conversations back when they become unavailable is the API's job: it works under manual routing
 * too, and each conversation then reports that it left them.)
 */
export function updateAgent(base: RouterState, patch: AgentPatch): RouterOutcome {
  const state = clone(base);
  const offers: Offer[] = [];
  const agent = (state.agents[patch.userId] ??= newAgent(patch.userId));
  Object.assign(agent, definedOnly(patch));
  drain(state, offers);
  return { state, offers };
}

export function updateConfig(base: RouterState, config: RoutingConfig): RouterOutcome {
  const state = clone(base);
  state.config = config;
  const offers: Offer[] = [];
  if (config.mode === 'manual') state.queue = [];
  drain(state, offers);
  return { state, offers };
}

export function newAgent(userId: string): AgentRecord {
  return { userId, teams: [], skills: [], maxConcurrent: null, active: true, presence: 'offline', load: [], lastRoutedSeq: 0 };
}

function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function initialRouterState(accountId: string, config: RoutingConfig, agents: AgentRecord[]): RouterState {
  return { accountId, config, agents: Object.fromEntries(agents.map((a) => [a.userId, a])), queue: [], seq: 0 };
}
