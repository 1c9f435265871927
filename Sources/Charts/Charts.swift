// The chart kit (issue 4) lives in this module.
