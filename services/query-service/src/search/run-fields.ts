// The vocabulary of run search: the entities a filter or order_by can name, and the run attributes with their types.
// Shared by both parsers so that `metrics.acc` means the same thing in a filter and in an order_by term.

export type Entity = 'metric' | 'param' | 'tag' | 'attribute';

/** Every spelling MLflow accepts for an entity (matched case-insensitively), by its normalised name. */
const ENTITY_SPELLINGS = new Map<string, Entity>([
  ['metrics', 'metric'],
  ['metric', 'metric'],
  ['params', 'param'],
  ['param', 'param'],
  ['parameters', 'param'],
  ['tags', 'tag'],
  ['tag', 'tag'],
  ['attributes', 'attribute'],
  ['attribute', 'attribute'],
  ['attr', 'attribute'],
  ['run', 'attribute'],
]);

export function entityNamed(word: string): Entity | undefined {
  return ENTITY_SPELLINGS.get(word.toLowerCase());
}

export const ENTITY_NAMES = 'metrics, params, tags or attributes';

export type ValueType = 'number' | 'string';

/** Run attributes and how they compare; times are milliseconds since the epoch. */
const ATTRIBUTE_TYPES = {
  run_id: 'string',
  run_name: 'string',
  status: 'string',
  user_id: 'string',
  artifact_uri: 'string',
  lifecycle_stage: 'string',
  start_time: 'number',
  end_time: 'number',
} as const satisfies Record<string, ValueType>;

export type AttributeName = keyof typeof ATTRIBUTE_TYPES;

export const ATTRIBUTE_NAMES = Object.keys(ATTRIBUTE_TYPES) as AttributeName[];

export function isAttributeName(key: string): key is AttributeName {
  return Object.hasOwn(ATTRIBUTE_TYPES, key);
}

/** Metrics and the time attributes compare as numbers; everything else as strings. */
export function valueType(entity: Entity, key: string): ValueType {
  if (entity === 'metric') return 'number';
  if (entity === 'attribute' && isAttributeName(key)) return ATTRIBUTE_TYPES[key];
  return 'string';
}

export const RUN_STATUSES: readonly string[] = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'];
