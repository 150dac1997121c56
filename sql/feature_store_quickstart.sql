-- The feature store in five minutes: the hand-worked example of README.md ("Feature store").
-- Run it with: quiver sql -f sql/feature_store_quickstart.sql
CREATE TABLE customer_daily AS SELECT * FROM (VALUES
    (1, TIMESTAMPTZ '2026-01-01 00:00:00+00', TIMESTAMPTZ '2026-01-01 06:00:00+00', 10.0),
    (1, TIMESTAMPTZ '2026-01-10 00:00:00+00', TIMESTAMPTZ '2026-01-10 06:00:00+00', 20.0),
    -- a late backfill: the row for Jan 15 was only loaded on Feb 1
    (1, TIMESTAMPTZ '2026-01-15 00:00:00+00', TIMESTAMPTZ '2026-02-01 00:00:00+00', 30.0),
    (2, TIMESTAMPTZ '2025-11-01 00:00:00+00', TIMESTAMPTZ '2025-11-01 06:00:00+00', 5.0)
) AS t(customer_id, event_ts, loaded_at, avg_amount);

CREATE TABLE labels AS SELECT * FROM (VALUES
    (1, TIMESTAMPTZ '2026-01-12 00:00:00+00', true),
    (1, TIMESTAMPTZ '2026-01-20 00:00:00+00', false),
    (1, TIMESTAMPTZ '2026-02-05 00:00:00+00', false),
    (2, TIMESTAMPTZ '2026-01-12 00:00:00+00', true),
    (3, TIMESTAMPTZ '2026-01-12 00:00:00+00', false)
) AS t(customer_id, label_ts, churned);

CREATE FEATURE VIEW customer_stats
    ENTITY (customer_id) TIMESTAMP (event_ts) CREATED (loaded_at) TTL INTERVAL '30 days'
    AS SELECT customer_id, event_ts, loaded_at, avg_amount FROM customer_daily;

SELECT customer_id, label_ts, churned, customer_stats__avg_amount
FROM features_at_time('SELECT customer_id, label_ts, churned FROM labels', 'customer_stats')
ORDER BY customer_id, label_ts;
