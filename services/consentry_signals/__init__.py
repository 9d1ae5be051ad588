"""Machine-readable AI reservations out: a track's consent in the formats crawlers and AI
vendors read (``terms``): W3C TDMRep, the IETF AI preferences' ``Content-Usage`` and the
CAWG training-and-data-mining assertion; a catalogue site's ``/.well-known/tdmrep.json``
and robots.txt lines (``site``); and the assertion inside the audio files themselves, in
a signed C2PA manifest (``stamp``)."""
