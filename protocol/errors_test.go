package protocol

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
)

func TestErrorIsSentinel(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"sentinel itself", ErrNotLeaderOrFollower, ErrNotLeaderOrFollower, true},
		{"from code", ErrorForCode(6), ErrNotLeaderOrFollower, true},
		{"with broker message", ErrNotLeaderOrFollower.WithMessage("leader moved"), ErrNotLeaderOrFollower, true},
		{"KafkaError with message", KafkaError(6, strPtr("moved")), ErrNotLeaderOrFollower, true},
		{"wrapped", fmt.Errorf("produce to t-0: %w", ErrorForCode(51)), ErrConcurrentTransactions, true},
		{"wrapped copy", fmt.Errorf("x: %w", ErrProducerFenced.WithMessage("epoch 3")), ErrProducerFenced, true},
		{"other code", ErrorForCode(6), ErrLeaderNotAvailable, false},
		{"unknown server error", ErrorForCode(-1), ErrUnknownServerError, true},
		{"unknown code is not unknown server error", ErrorForCode(30000), ErrUnknownServerError, false},
		{"not ErrMalformed", ErrorForCode(2), ErrMalformed, false},
		{"plain error", errors.New("x"), ErrCorruptMessage, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, errors.Is(tt.err, tt.target))
		})
	}
}

func TestErrorWithMessage(t *testing.T) {
	c := ErrInvalidTxnState.WithMessage("no open transaction")
	require.NotSame(t, ErrInvalidTxnState, c, "WithMessage returns a copy")
	require.Empty(t, ErrInvalidTxnState.Detail, "the sentinel is not modified")
	require.Equal(t, "no open transaction", c.Detail)
	require.Contains(t, c.Error(), "INVALID_TXN_STATE (48)")
	require.Contains(t, c.Error(), "no open transaction")
	require.Same(t, ErrInvalidTxnState, ErrInvalidTxnState.WithMessage(""), "empty message keeps the sentinel")
	require.Same(t, ErrInvalidTxnState, KafkaError(48, nil))
	require.Same(t, ErrInvalidTxnState, KafkaError(48, strPtr("")))
	var nilErr *Error
	require.Nil(t, nilErr.WithMessage("x"))
	require.Zero(t, testing.AllocsPerRun(100, func() { _ = ErrInvalidTxnState.WithMessage("") }))
}

func TestErrorAs(t *testing.T) {
	err := fmt.Errorf("end txn: %w", KafkaError(47, strPtr("epoch 2 < 3")))
	var ke *Error
	require.ErrorAs(t, err, &ke)
	require.Equal(t, int16(47), ke.Code)
	require.Equal(t, "INVALID_PRODUCER_EPOCH", ke.Name)
	require.Equal(t, "epoch 2 < 3", ke.Detail)
	require.False(t, ke.Retriable)
}

func TestErrorForCodeZeroAndUnknown(t *testing.T) {
	require.Nil(t, ErrorForCode(0))
	require.Nil(t, KafkaError(0, strPtr("ignored")))

	for _, code := range []int16{-2, 134, 999, 32767, -32768} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			err := ErrorForCode(code)
			require.Error(t, err)
			var ke *Error
			require.ErrorAs(t, err, &ke)
			require.Equal(t, code, ke.Code)
			require.Equal(t, fmt.Sprintf("UNKNOWN_CODE_%d", code), ke.Name)
			require.False(t, IsRetriable(err), "unknown codes are not retried")
			require.True(t, errors.Is(err, ErrorForCode(code)), "matches another value of the same code")

			typed := KafkaError(code, strPtr("detail"))
			require.Equal(t, code, typed.Code)
			require.Equal(t, "detail", typed.Detail)
		})
	}
}

// TestIsRetriable pins the retriable flags the producer relies on, from
// KAFKA-FACTS.md: the produce errors retried until delivery.timeout.ms, and
// the ones with special or fatal handling that must not be blindly retried.
func TestIsRetriable(t *testing.T) {
	retriable := []int16{2, 3, 5, 6, 7, 9, 13, 19, 20, 51, 56, 74, 75, 100}
	notRetriable := []int16{10, 18, 29, 31, 45, 46, 47, 59, 90}
	for _, code := range retriable {
		t.Run(fmt.Sprintf("%d retriable", code), func(t *testing.T) {
			require.True(t, IsRetriable(ErrorForCode(code)))
			require.True(t, IsRetriable(fmt.Errorf("wrapped: %w", KafkaError(code, strPtr("m")))))
		})
	}
	for _, code := range notRetriable {
		t.Run(fmt.Sprintf("%d not retriable", code), func(t *testing.T) {
			require.False(t, IsRetriable(ErrorForCode(code)))
		})
	}
	require.False(t, IsRetriable(nil))
	require.False(t, IsRetriable(errors.New("plain")))
	require.False(t, IsRetriable(ErrMalformed))
}

// TestErrorTableWellFormed checks the table itself: every sentinel is
// listed once, codes are unique, and lookup returns the listed value.
func TestErrorTableWellFormed(t *testing.T) {
	seen := map[int16]string{}
	for _, e := range allErrors {
		if prev, dup := seen[e.Code]; dup {
			t.Errorf("code %d listed twice: %s and %s", e.Code, prev, e.Name)
		}
		seen[e.Code] = e.Name
		require.NotEmpty(t, e.Name)
		require.NotEmpty(t, e.Message, "%s has no message", e.Name)
		require.Empty(t, e.Detail, "%s: sentinels carry no detail", e.Name)
		require.Same(t, e, ErrorForCode(e.Code))
	}
	for code := int16(1); code <= 133; code++ {
		_, ok := seen[code]
		require.True(t, ok, "code %d missing from the table", code)
	}
}

// kafkaOverKerr lists the codes where franz-go's kerr (v1.22.3) differs
// from Apache Kafka's Errors.java and exception classes; our table follows
// Kafka. Each entry was checked against the Kafka source.
var kafkaOverKerr = map[int16]struct {
	name      string
	retriable bool
	why       string
}{
	6:   {"NOT_LEADER_OR_FOLLOWER", true, "renamed from NOT_LEADER_FOR_PARTITION by KIP-392; kerr keeps the old name"},
	8:   {"BROKER_NOT_AVAILABLE", false, "BrokerNotAvailableException extends ApiException; kerr marks it retriable"},
	51:  {"CONCURRENT_TRANSACTIONS", true, "ConcurrentTransactionsException extends RetriableException; kerr marks it not retriable"},
	122: {"SHARE_SESSION_NOT_FOUND", true, "ShareSessionNotFoundException extends RetriableException; kerr marks it not retriable"},
	123: {"INVALID_SHARE_SESSION_EPOCH", true, "InvalidShareSessionEpochException extends RetriableException; kerr marks it not retriable"},
}

// TestErrorTableMatchesKerr cross-checks every code -1 and 1..133 against
// franz-go's kerr, an independent transcription of Kafka's Errors.java:
// same code, same name, same retriable flag, except where kafkaOverKerr
// records that Kafka itself says otherwise.
func TestErrorTableMatchesKerr(t *testing.T) {
	for code := int16(-1); code <= 133; code++ {
		if code == 0 {
			continue
		}
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			var k *kerr.Error
			require.ErrorAs(t, kerr.ErrorForCode(code), &k)
			if code != -1 && k == kerr.UnknownServerError {
				t.Fatalf("kerr does not know code %d", code)
			}
			var ours *Error
			require.ErrorAs(t, ErrorForCode(code), &ours)
			require.Equal(t, code, ours.Code)
			if kafka, ok := kafkaOverKerr[code]; ok {
				require.Equal(t, kafka.name, ours.Name, kafka.why)
				require.Equal(t, kafka.retriable, ours.Retriable, kafka.why)
				if k.Message == kafka.name && k.Retriable == kafka.retriable {
					t.Logf("kerr now agrees with Kafka on %d; the override can go", code)
				}
				return
			}
			require.Equal(t, k.Code, ours.Code)
			require.Equal(t, k.Message, ours.Name, "name of code %d", code)
			require.Equal(t, k.Retriable, ours.Retriable, "retriable flag of %d %s", code, ours.Name)
		})
	}
}

func BenchmarkErrorForCode(b *testing.B) {
	b.ReportAllocs()
	for i := range b.N {
		_ = ErrorForCode(int16(i % 134))
	}
}
