"""Commands around the pipeline: verify, the SQL command, the contract's docs."""
