COPY source_bucket (bucket, entries, digest) FROM STDIN
