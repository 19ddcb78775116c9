package producertest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/producer"
	"github.com/tributary-go/tributary/producer/producertest"
	"github.com/tributary-go/tributary/protocol"
)

// Order is what the example service publishes.
type Order struct {
	ID       string `json:"id"`
	Customer string `json:"customer"`
	Total    int    `json:"total"`
}

// OrderService is the kind of code producertest is for: it depends on
// producer.Interface, so production passes a *producer.Producer and tests
// pass a mock.
type OrderService struct {
	orders *producer.Typed[string, Order]
}

func NewOrderService(p producer.Interface) *OrderService {
	return &OrderService{orders: producer.NewTyped(p, producer.StringSerializer(), producer.JSONSerializer[Order]())}
}

// Place publishes o keyed by customer, so one customer's orders stay in
// order on one partition, and waits for the broker's acknowledgement.
func (s *OrderService) Place(ctx context.Context, o Order) (producer.RecordMetadata, error) {
	if o.ID == "" {
		return producer.RecordMetadata{}, errors.New("order without id")
	}
	md, err := s.orders.Send(ctx, &producer.TypedRecord[string, Order]{Topic: "orders", Key: o.Customer, Value: o}).Get(ctx)
	if err != nil {
		return md, fmt.Errorf("placing order %s: %w", o.ID, err)
	}
	return md, nil
}

func Example() {
	mock := producertest.New(producertest.WithPartitions("orders", 6))
	svc := NewOrderService(mock)
	ctx := context.Background()
	for _, o := range []Order{{"o-1", "alice", 12}, {"o-2", "bob", 7}, {"o-3", "alice", 30}} {
		if _, err := svc.Place(ctx, o); err != nil {
			fmt.Println(err)
		}
	}
	for _, s := range mock.History() {
		fmt.Printf("key=%s partition=%d offset=%d value=%s\n", s.Record.Key, s.Partition, s.Offset, s.Record.Value)
	}
	// Output:
	// key=alice partition=3 offset=0 value={"id":"o-1","customer":"alice","total":12}
	// key=bob partition=0 offset=0 value={"id":"o-2","customer":"bob","total":7}
	// key=alice partition=3 offset=1 value={"id":"o-3","customer":"alice","total":30}
}

// Failures are injected by completing records by hand.
func ExampleProducer_ErrorNext() {
	mock := producertest.New(producertest.WithAutoComplete(false))
	svc := NewOrderService(mock)
	done := make(chan error)
	go func() {
		_, err := svc.Place(context.Background(), Order{ID: "o-9", Customer: "carol", Total: 1})
		done <- err
	}()
	for mock.Pending() == 0 { // wait until the service has sent
		time.Sleep(time.Millisecond)
	}
	mock.ErrorNext(protocol.ErrNotEnoughReplicas)
	err := <-done
	fmt.Println(err)
	fmt.Println(errors.Is(err, protocol.ErrNotEnoughReplicas))
	// Output:
	// placing order o-9: kafka: NOT_ENOUGH_REPLICAS (19): too few in-sync replicas to accept the write
	// true
}

func TestOrderServiceRejectsInvalidOrders(t *testing.T) {
	mock := producertest.New()
	_, err := NewOrderService(mock).Place(ctx, Order{Customer: "alice"})
	require.Error(t, err)
	assert.Empty(t, mock.History(), "nothing sent")
}

func TestOrderServiceKeepsCustomersOnOnePartition(t *testing.T) {
	mock := producertest.New(producertest.WithPartitions("orders", 12))
	svc := NewOrderService(mock)
	for i := range 20 {
		_, err := svc.Place(ctx, Order{ID: fmt.Sprint(i), Customer: []string{"alice", "bob", "carol"}[i%3], Total: i})
		require.NoError(t, err)
	}
	byCustomer := map[string]int32{}
	for _, s := range mock.History() {
		c := string(s.Record.Key)
		if p, ok := byCustomer[c]; ok {
			assert.Equal(t, p, s.Partition, "customer %s moved", c)
		}
		byCustomer[c] = s.Partition
	}
	assert.EqualValues(t, 20, mock.Metrics().RecordSendTotal)
}

func TestOrderServiceReportsBrokerErrors(t *testing.T) {
	mock := producertest.New(producertest.WithAutoComplete(false))
	svc := NewOrderService(mock)
	done := make(chan error, 1)
	go func() {
		_, err := svc.Place(ctx, Order{ID: "o-1", Customer: "alice"})
		done <- err
	}()
	require.Eventually(t, func() bool { return mock.Pending() == 1 }, 5*time.Second, time.Millisecond)
	require.True(t, mock.ErrorNext(protocol.ErrNotEnoughReplicas))
	err := <-done
	require.ErrorIs(t, err, protocol.ErrNotEnoughReplicas)
	assert.Contains(t, err.Error(), "o-1")
}
