"""The hotline: a Twilio Voice IVR with a recorded statement that never stays at Twilio."""
