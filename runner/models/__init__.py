"""`lapbench models`: the catalog (models.toml) and the model files found on this machine."""
