// Every topic name in one place, prefixed from configuration (KAFKA_TOPIC_PREFIX).

export interface Topics {
  /** Metric batches from producers (SDK, HTTP API). */
  metrics: string;
  /** Messages the ingest worker could not accept, with the reason in headers. */
  metricsDeadLetter: string;
  /** Tracking metadata changes (experiments, runs, params, tags, inputs): the audit trail. */
  tracking: string;
  trackingDeadLetter: string;
  /** Rows of named datasets (training data, serving inputs, predictions, labels) for data quality and drift. */
  datasets: string;
  datasetsDeadLetter: string;
}

export function topicNames(prefix: string): Topics {
  return {
    metrics: `${prefix}metrics.v1`,
    metricsDeadLetter: `${prefix}metrics.v1.dlq`,
    tracking: `${prefix}tracking.v1`,
    trackingDeadLetter: `${prefix}tracking.v1.dlq`,
    datasets: `${prefix}datasets.v1`,
    datasetsDeadLetter: `${prefix}datasets.v1.dlq`,
  };
}

/** The dead-letter topic of a source topic. */
export function deadLetterTopicOf(topic: string): string {
  return `${topic}.dlq`;
}
