package sender

// Adding partitions to the transaction (transaction version 1). Send
// registers each new partition with AddPartition; a background adder
// goroutine, owned by the TxnManager and stopped by Close, sends
// AddPartitionsToTxn for whatever is pending, batching partitions that
// queued up meanwhile, while the records linger (the Java
// TransactionManager's addPartitionsToTransactionHandler). The drain gate
// keeps a partition's batches back until the coordinator has added it.

import (
	"context"
	"time"
)

// AddPartition registers a partition the open transaction writes to, so
// that AddPartitionsToTxn runs while the record lingers (transaction
// version 1; with version 2 Produce adds it). Call it between AcquireSend
// and ReleaseSend. It does not block.
func (t *TxnManager) AddPartition(topic string, partition int32) {
	if t.tv2.Load() {
		return
	}
	t.mu.Lock()
	t.addLocked(topicPartition{Topic: topic, Partition: partition})
	t.mu.Unlock()
}

// awaitBatches waits until every batch the accumulator holds has completed
// (and its callbacks ran), or ctx ends.
func (t *TxnManager) awaitBatches(ctx context.Context) error {
	return t.cfg.Acc.AwaitIncomplete(ctx)
}

// awaitAdder waits until no AddPartitionsToTxn is running, so that EndTxn
// cannot overtake it.
func (t *TxnManager) awaitAdder(ctx context.Context) error {
	for {
		t.mu.Lock()
		ch := t.adding
		t.mu.Unlock()
		if ch == nil {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// addLocked queues tp for AddPartitionsToTxn and starts the adder if it
// is not running. t.mu is held.
func (t *TxnManager) addLocked(tp topicPartition) {
	if t.added[tp] || t.pending[tp] || t.closed {
		return
	}
	if t.state != TxnStateInTransaction && t.state != TxnStateCommitting {
		return
	}
	t.pending[tp] = true
	if t.adding == nil {
		t.adding = make(chan struct{})
		t.wg.Add(1)
		go t.runAdder(t.adding)
	}
}

// runAdder is the adder goroutine, owned by the TxnManager: it adds the
// pending partitions with AddPartitionsToTxn, batching whatever queued up
// meanwhile into the next request, and stops when none is pending, the
// transaction is no longer open, or Close cancels t.ctx. done is closed on
// exit, under mu, as adding is reset.
func (t *TxnManager) runAdder(done chan struct{}) {
	defer t.wg.Done()
	attempt := 0
	for {
		t.mu.Lock()
		open := t.state == TxnStateInTransaction || t.state == TxnStateCommitting
		if len(t.pending) == 0 || !open || t.ctx.Err() != nil {
			t.adding = nil
			close(done)
			t.mu.Unlock()
			return
		}
		tps := make([]topicPartition, 0, len(t.pending))
		for tp := range t.pending {
			tps = append(tps, tp)
		}
		t.mu.Unlock()

		id, epoch := t.idem.ProducerID()
		added, st, err := t.addPartitionsOnce(t.ctx, tps, id, epoch)
		if len(added) > 0 {
			t.mu.Lock()
			for _, tp := range added {
				delete(t.pending, tp)
				t.added[tp] = true
			}
			t.started = true
			t.mu.Unlock()
			t.cfg.Wake()
		}
		switch st {
		case stepDone:
			attempt = 0
			if err != nil {
				_ = t.settle(err)
				t.cfg.Wake()
			}
			continue
		case stepRefind:
			t.forgetCoordinator()
		}
		attempt++
		t.log.Debug("retrying AddPartitionsToTxn", "err", err, "attempt", attempt)
		timer := time.NewTimer(t.cfg.Backoff(attempt))
		select {
		case <-timer.C:
		case <-t.ctx.Done():
			timer.Stop()
		}
	}
}
