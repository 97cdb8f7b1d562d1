"""The shared core: settings, extensions, the egress client, the query language, times, limits, the API's error answers."""
