import { findChannel, listChannels } from '../../store/channels';
import { channelView, configureChannel } from '../channels';
import { notFound } from '../errors';
import { defineRoute } from '../route';
import * as r from '../conversation-responses';
import * as s from '../schemas';

const admins = ['platform', 'owner', 'admin'] as const;

export const channelRoutes = [
  defineRoute({
    method: 'put',
    path: '/v1/accounts/{accountId}/channels/{channel}',
    summary:
      'Configure how a channel (business number) sends: whatsapp_cloud, webhook or recording. Secrets are write-only, stored encrypted. A webhook url must be https to a public address (400 naming url unless OUTBOUND_ALLOW_PRIVATE)',
    allow: admins,
    body: s.channelConfig,
    response: r.channelView,
    handler: async ({ deps, params, body }) => channelView(await configureChannel(deps, params.accountId!, s.id.parse(params.channel), body)),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/accounts/{accountId}/channels',
    summary: "The account's configured channels, without their secrets",
    allow: admins,
    response: r.channelList,
    handler: async ({ deps, params }) => ({ items: (await listChannels(deps.collections, params.accountId!)).map(channelView), nextCursor: null }),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/accounts/{accountId}/channels/{channel}',
    summary: 'One channel, without its secrets',
    allow: admins,
    response: r.channelView,
    handler: async ({ deps, params }) => {
      const doc = await findChannel(deps.collections, params.accountId!, params.channel!);
      if (!doc) throw notFound('channel');
      return channelView(doc);
    },
  }),
];
