"""Cars and the work done on them: the cars themselves and who owns them, jobs and
maintenance schedules, condition reports and drivers' inspections, photos, telematics."""
