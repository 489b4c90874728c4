"""Going live: the go-live checklist, publishing a draft, and what a draft's citizens see."""
