// Package shutdown holds the one sentinel every layer uses for work
// abandoned because the producer closed. Imports go one way (producer →
// sender → accumulator), so the sender cannot name producer.ErrClosed;
// instead producer.ErrClosed is [ErrClosed], and the sender's and the
// producer's own "closed" errors match it with errors.Is while each keeps
// a message that says what happened.
package shutdown
