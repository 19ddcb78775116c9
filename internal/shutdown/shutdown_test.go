package shutdown

import (
	"errors"
	"fmt"
	"testing"
)

func TestNewMatchesErrClosedAndExtras(t *testing.T) {
	extra, other := errors.New("extra"), errors.New("other")
	err := New("producer: closed before the record was sent", extra)
	if got := err.Error(); got != "producer: closed before the record was sent" {
		t.Fatalf("message %q", got)
	}
	for _, target := range []error{ErrClosed, extra} {
		if !errors.Is(err, target) {
			t.Errorf("%v does not match %v", err, target)
		}
		if !errors.Is(fmt.Errorf("wrapped: %w", err), target) {
			t.Errorf("wrapped %v does not match %v", err, target)
		}
	}
	if errors.Is(err, other) {
		t.Errorf("%v matches an unrelated sentinel", err)
	}
	if errors.Is(ErrClosed, extra) {
		t.Error("ErrClosed itself matches nothing else")
	}
}
