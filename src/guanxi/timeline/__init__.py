"""Timeline: one interaction per touch from any channel, and activities (tasks, calls,
meetings, visits) that write the timeline when they are done."""
