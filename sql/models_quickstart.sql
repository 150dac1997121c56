-- Train, register, score, evaluate and watch a model without leaving SQL.
-- Run from the repository root: quiver sql --data-dir /tmp/quiver-models -f sql/models_quickstart.sql
CREATE EXTERNAL TABLE iris_csv STORED AS CSV LOCATION 'tests/data/iris.csv'
  OPTIONS ('format.has_header' 'true');
CREATE TABLE iris AS SELECT * FROM iris_csv;

CREATE MODEL flowers
  OPTIONS (model_type = 'logistic_reg', input_label_cols = ['species'],
           max_iterations = 200, data_split_method = 'random', data_split_eval_fraction = 0.2, seed = 7)
AS SELECT sepal_length, sepal_width, petal_length, petal_width, species FROM iris;

SELECT id, species, predict('flowers', sepal_length, sepal_width, petal_length, petal_width) AS predicted
FROM iris WHERE id IN (1, 51, 101) ORDER BY id;

SELECT id, predicted_species FROM ml_predict('flowers', 'SELECT * FROM iris WHERE id IN (1, 51, 101)') ORDER BY id;

SELECT accuracy FROM ml_evaluate('flowers', 'SELECT * FROM iris');

ALTER MODEL flowers SET STAGE 'production' VERSION 1;
SELECT model, version, stage FROM ml.model_versions;

SELECT column, method, drifted FROM model_drift('flowers',
  'SELECT sepal_length + 3 AS sepal_length, sepal_width, petal_length, petal_width FROM iris') ORDER BY column;
