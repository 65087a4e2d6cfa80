"""Reports over stored runs: the HTML report with plots and its Markdown twin (`build_report`), the
side-by-side comparison of two runs with bootstrap significance (`compare_runs`), and exports."""
