-- Included by the fixtures of the suites that run pump_start():
-- scaler_test_load, the load the pump writes to cluster_metrics every
-- 0.5 s, empty.
DROP TABLE IF EXISTS scaler_test_load;
CREATE TABLE scaler_test_load (
    cluster_id   text PRIMARY KEY,
    cpu_usage    double precision NOT NULL,
    queue_length double precision NOT NULL
);
