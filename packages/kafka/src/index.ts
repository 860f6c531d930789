export * from './message-bus.ts';
export * from './topics.ts';
export { createKafkaBus } from './kafkajs-bus.ts';
