package sender

// The transaction coordinator's requests: FindCoordinator, InitProducerId,
// AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, and TxnOffsetCommit to the
// group coordinator. Each *Once function makes one attempt and says what to
// do next, following the Java client's response handlers:
//
//   - NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, a dead or unreachable
//     connection: find the coordinator again, then retry;
//   - COORDINATOR_LOAD_IN_PROGRESS, CONCURRENT_TRANSACTIONS (the
//     coordinator is still completing an earlier transaction) and other
//     retriable errors: retry after a backoff;
//   - fencing (PRODUCER_FENCED, and INVALID_PRODUCER_EPOCH from a
//     coordinator, which means the same), authorization of the
//     transactional id or cluster, INVALID_TXN_STATE and anything
//     unexpected: fatal;
//   - TRANSACTION_ABORTABLE, UNKNOWN_PRODUCER_ID, INVALID_PRODUCER_ID_MAPPING
//     and per-request ones (a topic or group not authorized, a stale group
//     generation): the transaction is abortable.
//
// retry runs the attempts with backoff until one is final or ctx ends.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"time"

	"github.com/tributary-go/tributary/internal/conn"
	"github.com/tributary-go/tributary/protocol"
)

// step is what an attempt asks for next.
type step int8

const (
	stepDone   step = iota // final: success, or the error to settle
	stepRetry              // retry after a backoff
	stepRefind             // find the coordinator again, then retry
)

// coordinator is a coordinator broker.
type coordinator struct {
	id   int32
	addr string
}

// retry runs attempt until it is final, backing off between attempts and
// re-finding the coordinator when asked. If ctx ends (or Close is called)
// first it returns ctx's error (or ErrTxnClosed) with the last attempt's.
func (t *TxnManager) retry(ctx context.Context, op string, attempt func(ctx context.Context) (step, error)) error {
	for i := 1; ; i++ {
		actx, cancel := context.WithTimeout(ctx, t.cfg.RequestTimeout)
		st, err := attempt(actx)
		cancel()
		if st == stepDone {
			return err
		}
		if ctx.Err() != nil {
			return &TxnRetriableError{Op: op, Err: ctx.Err(), Last: err}
		}
		if st == stepRefind {
			t.forgetCoordinator()
		}
		t.log.Debug("retrying transactional request", "op", op, "attempt", i, "err", err)
		timer := time.NewTimer(t.cfg.Backoff(i))
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return &TxnRetriableError{Op: op, Err: ctx.Err(), Last: err}
		case <-t.ctx.Done():
			timer.Stop()
			return fmt.Errorf("sender: %s: %w (last error: %v)", op, ErrTxnClosed, err)
		}
	}
}

func (t *TxnManager) forgetCoordinator() {
	t.mu.Lock()
	t.coord = nil
	t.mu.Unlock()
}

// txnConn returns a connection to the transaction coordinator, finding it
// first if it is not known.
func (t *TxnManager) txnConn(ctx context.Context) (*conn.Conn, step, error) {
	t.mu.Lock()
	co := t.coord
	t.mu.Unlock()
	if co == nil {
		found, st, err := t.lookup(ctx, protocol.CoordinatorTransaction, t.cfg.TransactionalID)
		if st != stepDone || err != nil {
			return nil, st, err
		}
		co = &found
		t.mu.Lock()
		t.coord = co
		t.mu.Unlock()
	}
	c, err := t.cfg.Pool.Get(ctx, co.id, co.addr, conn.PurposeControl)
	if err != nil {
		return nil, stepRefind, err
	}
	return c, stepDone, nil
}

// lookup asks any broker for the coordinator of key (FindCoordinator; v4+
// carries the key in CoordinatorKeys).
func (t *TxnManager) lookup(ctx context.Context, keyType int8, key string) (coordinator, step, error) {
	c, err := t.cfg.AnyConn(ctx)
	if err != nil {
		return coordinator{}, stepRetry, err
	}
	v, err := c.Version(protocol.KeyFindCoordinator)
	if err != nil {
		return coordinator{}, stepDone, &TxnFatalError{Err: err}
	}
	req := &protocol.FindCoordinatorRequest{KeyType: keyType}
	if v >= 4 {
		req.CoordinatorKeys = []string{key}
	} else {
		req.CoordinatorKey = key
	}
	r, err := c.Do(ctx, req)
	if err != nil {
		return coordinator{}, stepRetry, err
	}
	resp := r.(*protocol.FindCoordinatorResponse)
	code, msg, node, host, port := resp.ErrorCode, resp.ErrorMessage, resp.NodeID, resp.Host, resp.Port
	if v >= 4 {
		if len(resp.Coordinators) == 0 {
			return coordinator{}, stepRetry, errors.New("sender: FindCoordinator answered no coordinator")
		}
		co := resp.Coordinators[0]
		code, msg, node, host, port = co.ErrorCode, co.ErrorMessage, co.NodeID, co.Host, co.Port
	}
	if kerr := protocol.KafkaError(code, msg); kerr != nil {
		switch {
		case errors.Is(kerr, protocol.ErrGroupAuthorizationFailed):
			return coordinator{}, stepDone, &TxnAbortableError{Err: kerr}
		case kerr.Retriable:
			return coordinator{}, stepRetry, kerr
		default:
			return coordinator{}, stepDone, &TxnFatalError{Err: fmt.Errorf("sender: FindCoordinator for %q: %w", key, kerr)}
		}
	}
	return coordinator{id: node, addr: net.JoinHostPort(host, strconv.Itoa(int(port)))}, stepDone, nil
}

// call sends req on c at the negotiated version capped at maxV and waits
// for the response or ctx. It returns the version used.
func call(ctx context.Context, c *conn.Conn, req protocol.Request, maxV int16) (protocol.Response, int16, error) {
	v, err := c.Version(req.Key())
	if err != nil {
		return nil, 0, err
	}
	if v > maxV {
		if br := c.Versions()[req.Key()]; br.Min > maxV {
			info, _ := protocol.Info(req.Key())
			return nil, 0, &protocol.NoVersionError{Key: req.Key(), OurMin: info.Min, OurMax: maxV, BrokerMin: br.Min, BrokerMax: br.Max}
		}
		v = maxV
	}
	type result struct {
		resp protocol.Response
		err  error
	}
	ch := make(chan result, 1)
	c.Send(req, v, true, func(resp protocol.Response, err error) { ch <- result{resp, err} })
	select {
	case r := <-ch:
		return r.resp, v, r.err
	case <-ctx.Done():
		return nil, v, ctx.Err()
	}
}

// connStep classifies a failure to send or to get an answer: no common
// version is fatal, anything else (a dead connection, a timeout) means
// finding the coordinator again.
func connStep(err error) (step, error) {
	var nv *protocol.NoVersionError
	if errors.As(err, &nv) {
		return stepDone, &TxnFatalError{Err: err}
	}
	return stepRefind, err
}

// classify maps a coordinator's answer to the next step (see the top of
// the file). Unexpected non-retriable errors are fatal unless
// unknownAbortable.
func classify(kerr *protocol.Error, unknownAbortable bool) (step, error) {
	switch {
	case kerr == nil:
		return stepDone, nil
	case errors.Is(kerr, protocol.ErrNotCoordinator), errors.Is(kerr, protocol.ErrCoordinatorNotAvailable):
		return stepRefind, kerr
	case errors.Is(kerr, protocol.ErrCoordinatorLoadInProgress), errors.Is(kerr, protocol.ErrConcurrentTransactions):
		return stepRetry, kerr
	case errors.Is(kerr, protocol.ErrProducerFenced):
		return stepDone, &TxnFatalError{Err: kerr}
	case errors.Is(kerr, protocol.ErrInvalidProducerEpoch):
		return stepDone, &TxnFatalError{Err: protocol.ErrProducerFenced.WithMessage("the coordinator answered INVALID_PRODUCER_EPOCH")}
	case errors.Is(kerr, protocol.ErrTransactionalIDAuthorizationFailed), errors.Is(kerr, protocol.ErrClusterAuthorizationFailed),
		errors.Is(kerr, protocol.ErrInvalidTxnState):
		return stepDone, &TxnFatalError{Err: kerr}
	case errors.Is(kerr, protocol.ErrTransactionAbortable), errors.Is(kerr, protocol.ErrUnknownProducerID),
		errors.Is(kerr, protocol.ErrInvalidProducerIDMapping):
		return stepDone, &TxnAbortableError{Err: kerr}
	case kerr.Retriable:
		return stepRetry, kerr
	case unknownAbortable:
		return stepDone, &TxnAbortableError{Err: kerr}
	}
	return stepDone, &TxnFatalError{Err: kerr}
}

// initProducerIDOnce sends InitProducerId for the transactional id: with
// -1/-1 to start (fencing older instances), or with the current id and
// epoch to bump the epoch after an abort (KIP-360). It also reports whether
// the coordinator's cluster finalized transaction.version ≥ 2.
func (t *TxnManager) initProducerIDOnce(ctx context.Context, curID int64, curEpoch int16) (int64, int16, bool, step, error) {
	c, st, err := t.txnConn(ctx)
	if st != stepDone || err != nil {
		return 0, 0, false, st, err
	}
	txnID := t.cfg.TransactionalID
	req := &protocol.InitProducerIDRequest{
		TransactionalID:          &txnID,
		TransactionTimeoutMillis: int32(min(t.cfg.Timeout/time.Millisecond, math.MaxInt32)),
		ProducerID:               curID,
		ProducerEpoch:            curEpoch,
	}
	r, _, err := call(ctx, c, req, math.MaxInt16)
	if err != nil {
		st, err := connStep(err)
		return 0, 0, false, st, err
	}
	resp := r.(*protocol.InitProducerIDResponse)
	st, err = classify(protocol.KafkaError(resp.ErrorCode, nil), false)
	if err != nil {
		var ae *TxnAbortableError
		if errors.As(err, &ae) { // no transaction to abort here
			err = &TxnFatalError{Err: ae.Err}
		}
		return 0, 0, false, st, err
	}
	return resp.ProducerID, resp.ProducerEpoch, transactionV2(c), stepDone, nil
}

// transactionV2 reports whether c's cluster finalized transaction.version
// ≥ 2 (KIP-890 part 2) and c speaks EndTxn v5, which returns the new epoch.
func transactionV2(c *conn.Conn) bool {
	lvl, ok := c.FinalizedFeature("transaction.version")
	if !ok || lvl < 2 {
		return false
	}
	v, err := c.Version(protocol.KeyEndTxn)
	return err == nil && v >= 5
}

// addPartitionsOnce sends AddPartitionsToTxn in its client form (v0–v3)
// for tps and returns the partitions the coordinator added. Partitions it
// did not add stay pending for the next attempt.
func (t *TxnManager) addPartitionsOnce(ctx context.Context, tps []topicPartition, id int64, epoch int16) ([]topicPartition, step, error) {
	c, st, err := t.txnConn(ctx)
	if st != stepDone || err != nil {
		return nil, st, err
	}
	req := &protocol.AddPartitionsToTxnRequest{
		V3AndBelowTransactionalID: t.cfg.TransactionalID,
		V3AndBelowProducerID:      id,
		V3AndBelowProducerEpoch:   epoch,
	}
	for _, tp := range tps {
		i := 0
		for i < len(req.V3AndBelowTopics) && req.V3AndBelowTopics[i].Name != tp.Topic {
			i++
		}
		if i == len(req.V3AndBelowTopics) {
			req.V3AndBelowTopics = append(req.V3AndBelowTopics, protocol.AddPartitionsToTxnTopic{Name: tp.Topic})
		}
		req.V3AndBelowTopics[i].Partitions = append(req.V3AndBelowTopics[i].Partitions, tp.Partition)
	}
	r, _, err := call(ctx, c, req, 3)
	if err != nil {
		st, err := connStep(err)
		return nil, st, err
	}
	resp := r.(*protocol.AddPartitionsToTxnResponse)
	var added []topicPartition
	next, worst := stepRetry, error(nil)
	answered := 0
	for _, tr := range resp.ResultsByTopicV3AndBelow {
		for _, pr := range tr.ResultsByPartition {
			answered++
			kerr := protocol.KafkaError(pr.PartitionErrorCode, nil)
			switch {
			case kerr == nil:
				added = append(added, topicPartition{Topic: tr.Name, Partition: pr.PartitionIndex})
				continue
			case errors.Is(kerr, protocol.ErrOperationNotAttempted):
				// Another partition of the request failed; that one decides.
				continue
			case errors.Is(kerr, protocol.ErrTopicAuthorizationFailed):
				worst = worse(worst, &TxnAbortableError{Err: fmt.Errorf("sender: AddPartitionsToTxn %s-%d: %w", tr.Name, pr.PartitionIndex, kerr)})
				continue
			}
			st, err := classify(kerr, true)
			if st == stepDone {
				worst = worse(worst, err)
			} else {
				if st == stepRefind {
					next = stepRefind
				}
				if worst == nil || !isFinal(worst) {
					worst = err
				}
			}
		}
	}
	if worst != nil && isFinal(worst) {
		return added, stepDone, worst
	}
	if len(added) == len(tps) && answered == len(tps) {
		return added, stepDone, nil
	}
	if worst == nil {
		worst = errors.New("sender: AddPartitionsToTxn left partitions unanswered")
	}
	return added, next, worst
}

// isFinal reports a settled transactional error.
func isFinal(err error) bool {
	return errors.Is(err, ErrTxnFatal) || errors.Is(err, ErrTxnAbortable)
}

// worse returns the more severe of two errors: fatal over abortable over
// anything else.
func worse(a, b error) error {
	if a == nil || errors.Is(b, ErrTxnFatal) || (errors.Is(b, ErrTxnAbortable) && !errors.Is(a, ErrTxnFatal)) {
		return b
	}
	return a
}

// addOffsetsOnce sends AddOffsetsToTxn: the group's offsets commit with the
// transaction (transaction version 1).
func (t *TxnManager) addOffsetsOnce(ctx context.Context, group string, id int64, epoch int16) (step, error) {
	c, st, err := t.txnConn(ctx)
	if st != stepDone || err != nil {
		return st, err
	}
	req := &protocol.AddOffsetsToTxnRequest{TransactionalID: t.cfg.TransactionalID, ProducerID: id, ProducerEpoch: epoch, GroupID: group}
	r, _, err := call(ctx, c, req, math.MaxInt16)
	if err != nil {
		return connStep(err)
	}
	kerr := protocol.KafkaError(r.(*protocol.AddOffsetsToTxnResponse).ErrorCode, nil)
	if kerr != nil && errors.Is(kerr, protocol.ErrGroupAuthorizationFailed) {
		return stepDone, &TxnAbortableError{Err: kerr}
	}
	return classify(kerr, false)
}

// commitOffsetsOnce sends TxnOffsetCommit for the pending offsets to the
// group coordinator (*gc, found first if nil) and returns the offsets still
// pending. Version 5 (transaction version 2) adds the group implicitly;
// with version 1 it is capped at v4.
func (t *TxnManager) commitOffsetsOnce(ctx context.Context, gc **coordinator, group TxnGroup, pending []TxnOffset,
	id int64, epoch int16, v2 bool) ([]TxnOffset, step, error) {
	if *gc == nil {
		found, st, err := t.lookup(ctx, protocol.CoordinatorGroup, group.GroupID)
		if st != stepDone || err != nil {
			return pending, st, err
		}
		*gc = &found
	}
	c, err := t.cfg.Pool.Get(ctx, (*gc).id, (*gc).addr, conn.PurposeControl)
	if err != nil {
		*gc = nil
		return pending, stepRetry, err
	}
	req := protocol.NewTxnOffsetCommitRequest()
	req.TransactionalID, req.GroupID, req.ProducerID, req.ProducerEpoch = t.cfg.TransactionalID, group.GroupID, id, epoch
	req.GenerationID, req.MemberID, req.GroupInstanceID = group.GenerationID, group.MemberID, group.GroupInstanceID
	for i := range pending {
		o := &pending[i]
		j := 0
		for j < len(req.Topics) && req.Topics[j].Name != o.Topic {
			j++
		}
		if j == len(req.Topics) {
			req.Topics = append(req.Topics, protocol.TxnOffsetCommitRequestTopic{Name: o.Topic})
		}
		md := o.Metadata
		req.Topics[j].Partitions = append(req.Topics[j].Partitions, protocol.TxnOffsetCommitRequestPartition{
			PartitionIndex: o.Partition, CommittedOffset: o.Offset, CommittedLeaderEpoch: o.LeaderEpoch, CommittedMetadata: &md,
		})
	}
	maxV := int16(4)
	if v2 {
		maxV = math.MaxInt16
	}
	r, _, err := call(ctx, c, req, maxV)
	if err != nil {
		st, err := connStep(err)
		if st == stepRefind {
			*gc = nil
		}
		return pending, st, err
	}
	resp := r.(*protocol.TxnOffsetCommitResponse)
	failed := map[topicPartition]bool{}
	next, worst := stepDone, error(nil)
	for _, tr := range resp.Topics {
		for _, pr := range tr.Partitions {
			kerr := protocol.KafkaError(pr.ErrorCode, nil)
			if kerr == nil {
				continue
			}
			failed[topicPartition{Topic: tr.Name, Partition: pr.PartitionIndex}] = true
			var st step
			var err error
			switch {
			case errors.Is(kerr, protocol.ErrGroupAuthorizationFailed), errors.Is(kerr, protocol.ErrUnknownMemberID),
				errors.Is(kerr, protocol.ErrIllegalGeneration), errors.Is(kerr, protocol.ErrFencedInstanceID):
				st, err = stepDone, &TxnAbortableError{Err: fmt.Errorf("sender: TxnOffsetCommit for group %q: %w", group.GroupID, kerr)}
			case errors.Is(kerr, protocol.ErrRequestTimedOut):
				st, err = stepRefind, kerr
			default:
				st, err = classify(kerr, false)
			}
			switch {
			case st == stepDone:
				worst, next = worse(worst, err), stepDone
			case !isFinal(worst):
				worst = err
				if next != stepRefind {
					next = st
				}
			}
		}
	}
	if worst != nil && isFinal(worst) {
		return pending, stepDone, worst
	}
	rest := pending[:0:0]
	for _, o := range pending {
		if failed[topicPartition{Topic: o.Topic, Partition: o.Partition}] {
			rest = append(rest, o)
		}
	}
	if len(rest) == 0 {
		return nil, stepDone, nil
	}
	if next == stepRefind {
		*gc = nil
	}
	return rest, stepRetry, worst
}

// endTxnOnce sends EndTxn. With transaction version 2 (v5) the answer
// carries the producer id and the bumped epoch for the next transaction;
// otherwise the id and epoch stay.
func (t *TxnManager) endTxnOnce(ctx context.Context, commit bool, id int64, epoch int16, v2 bool) (int64, int16, step, error) {
	c, st, err := t.txnConn(ctx)
	if st != stepDone || err != nil {
		return id, epoch, st, err
	}
	maxV := int16(4)
	if v2 {
		maxV = math.MaxInt16
	}
	req := &protocol.EndTxnRequest{TransactionalID: t.cfg.TransactionalID, ProducerID: id, ProducerEpoch: epoch, Committed: commit}
	r, v, err := call(ctx, c, req, maxV)
	if err != nil {
		st, err := connStep(err)
		return id, epoch, st, err
	}
	resp := r.(*protocol.EndTxnResponse)
	if st, err := classify(protocol.KafkaError(resp.ErrorCode, nil), false); st != stepDone || err != nil {
		return id, epoch, st, err
	}
	if v >= 5 && resp.ProducerID >= 0 && resp.ProducerEpoch >= 0 {
		return resp.ProducerID, resp.ProducerEpoch, stepDone, nil
	}
	return id, epoch, stepDone, nil
}
