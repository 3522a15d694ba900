"""The Airflow side: the DAG's task bodies, the deadline reference, the provider metadata
(the Credly connection type), the executor that preloads what the tasks import."""
