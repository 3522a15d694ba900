"""The Airflow side: the DAG's task bodies, the deadline reference, the provider metadata
(the Credly connection type)."""
