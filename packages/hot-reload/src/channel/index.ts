/**
 * channel: typed single-producer, single-consumer queues in shared memory, as state fields.
 */

export type {
  Channel,
  ChannelOptions,
  ChannelSchema,
  Delivery,
  PoisonMessage,
  RecvOptions,
  ReleasedClaims,
  ReleaseOptions,
  SendOptions,
} from './channel.js';
export { channel, MAX_CHANNEL_CAPACITY, RECV_SPIN_MICROS } from './channel.js';
