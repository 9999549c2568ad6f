"""RGB-D frames + segments + pose → object observations, association, change detection."""
