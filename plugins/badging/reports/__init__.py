"""What the pipeline writes for people to read: the correction report, its chart, Data
Docs, where reports go, and the one template environment."""
