"""Podcasts: subscribed feeds (RSS 2.0 with iTunes tags, Atom), their episodes downloaded in the background
into the node's data folder, served like tracks. See :mod:`.service` for how it runs, :mod:`.feed` for
how feeds are read (untrusted input), :mod:`.fetch` for what is fetched and how."""
