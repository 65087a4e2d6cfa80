"""`lapbench score`: score an AST document, or AutoBe's own output, with the rubric."""
