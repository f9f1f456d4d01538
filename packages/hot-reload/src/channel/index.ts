/**
 * channel: typed single-producer, single-consumer queues in shared memory, as state fields.
 */

export type {
  Channel,
  ChannelOptions,
  ChannelSchema,
  Delivery,
  MovedMessages,
  PoisonMessage,
  RecvOptions,
  ReleasedClaims,
  ReleaseOptions,
  SendOptions,
} from './channel.js';
export { channel, MAX_CHANNEL_CAPACITY, moveMessages, RECV_SPIN_MICROS } from './channel.js';
export type { ChannelContext, ChannelEndpoint, ProducerGate } from './endpoint.js';
export { channelContext } from './endpoint.js';
