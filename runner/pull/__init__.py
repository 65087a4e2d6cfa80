"""`lapbench pull`: download a model's files, refused when `fit` says they will not fit."""
