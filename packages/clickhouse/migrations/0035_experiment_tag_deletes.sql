-- Experiment tags can be deleted (TrackingEvent schema v4: EXPERIMENT_TAG_DELETED); a deletion is a newer version
-- with deleted = 1, as for run tags. The entity view is recreated in 0036.
ALTER TABLE tracking_events_v1
    MODIFY COLUMN event_type Enum8('EXPERIMENT_UPSERTED' = 1, 'EXPERIMENT_TAG_SET' = 2, 'RUN_UPSERTED' = 3, 'PARAM_LOGGED' = 4,
                                   'RUN_TAG_SET' = 5, 'RUN_TAG_DELETED' = 6, 'RUN_INPUT_LOGGED' = 7,
                                   'REGISTERED_MODEL_UPSERTED' = 8, 'MODEL_VERSION_UPSERTED' = 9, 'LOGGED_MODEL_UPSERTED' = 10,
                                   'EXPERIMENT_TAG_DELETED' = 11);

ALTER TABLE experiment_tags_v1
    ADD COLUMN deleted UInt8;
