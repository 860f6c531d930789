-- Registry state of TrackingEvent schema v4: a registered model's aliases and deletion, a model version's logged
-- model, creator and deletion. model_id and user_id already exist on tracking_events_v1 (logged models, runs).
-- The entity views are recreated in 0031 and 0032 to carry the new columns.
ALTER TABLE tracking_events_v1
    ADD COLUMN aliases_json String,
    ADD COLUMN deleted UInt8;

ALTER TABLE registered_models_v1
    ADD COLUMN aliases_json String,
    ADD COLUMN deleted UInt8;

ALTER TABLE model_versions_v1
    ADD COLUMN model_id String,
    ADD COLUMN user_id String,
    ADD COLUMN deleted UInt8;
