-- A logged model's metrics (TrackingEvent schema v4, LoggedModelState.metricsJson): the points the client logs with
-- a model_id (log_model re-sends the run's metrics of its step that way). Kept with the model's state, not as metric
-- points: the run already holds each point once. The entity view is recreated in 0034.
ALTER TABLE tracking_events_v1
    ADD COLUMN metrics_json String;

ALTER TABLE logged_models_v1
    ADD COLUMN metrics_json String;
