"""Mobile-library planner: scenarios, the OR-Tools routing model, plans, checks and the CLI."""
