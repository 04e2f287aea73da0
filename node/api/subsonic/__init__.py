"""The Subsonic/OpenSubsonic API (see specs/subsonic.md)."""
