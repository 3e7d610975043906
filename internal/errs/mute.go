package errs

// SenderMuted (20012): the sender is globally muted for one-to-one messages
// (openconfigsvr/setnospeaking, reference §3.8).
const SenderMuted = 20012
