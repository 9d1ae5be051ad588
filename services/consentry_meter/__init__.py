"""The meter: AI features' usage reports judged against the consent of their moment and
counted per track, rights holder, purpose, model and period (issue 25)."""
