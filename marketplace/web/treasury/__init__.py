"""The treasurer's dividend area: fiscal periods, allocation policies, preview, approval, the run, exports."""
