package fakebroker

import (
	"github.com/tributary-go/tributary/protocol"
)

// Request dispatch and the default answers to everything but Produce
// (produce.go). A request the broker cannot decode, at a version it does
// not advertise, or of an API it has no answer for closes the connection,
// as Kafka does; ApiVersions is the exception: a version above ours is
// answered with UNSUPPORTED_VERSION and a v0 body (KIP-511).

// handle decodes one request frame and decides its answer. ok=false closes
// the connection.
func (c *brokerConn) handle(frame []byte) (answer, bool) {
	c.rd.Reset(frame)
	h := protocol.DecodeRequestHeader(&c.rd)
	if c.rd.Err() != nil {
		return answer{}, false
	}
	b := c.b
	if h.Key >= 0 && int(h.Key) < len(b.requests) {
		b.requests[h.Key].Add(1)
	}
	a := answer{key: h.Key, version: h.Version, corr: h.CorrelationID}
	min, max, listed := b.versionRange(h.Key)
	if !listed || h.Version < min || h.Version > max {
		if h.Key == protocol.KeyAPIVersions {
			a.version = 0
			a.body = b.apiVersions(protocol.ErrUnsupportedVersion.Code)
			return a, true
		}
		return answer{}, false
	}
	req := newRequest(h.Key)
	if req == nil {
		return answer{}, false
	}
	req.Decode(&c.rd, h.Version)
	if c.rd.Complete() != nil {
		return answer{}, false
	}

	var act Action
	if b.cfg.Handler != nil {
		act = b.cfg.Handler(c.node.id, h.Key, h.Version, req)
	}
	a.delay, a.hold, a.drop, a.close = act.Delay, act.Hold, act.Drop, act.CloseConn
	if pr, ok := req.(*protocol.ProduceRequest); ok && pr.Acks != 0 {
		a.produce = true
	}
	if a.drop || a.close {
		return a, true // not handled at all
	}
	if act.Respond != nil {
		a.body = act.Respond
		return a, true
	}
	switch r := req.(type) {
	case *protocol.APIVersionsRequest:
		code := act.ErrorCode
		if code == 0 && h.Version >= 3 && (!protocol.ValidClientSoftware(r.ClientSoftwareName) || !protocol.ValidClientSoftware(r.ClientSoftwareVersion)) {
			code = protocol.ErrInvalidRequest.Code
		}
		a.body = b.apiVersions(code)
	case *protocol.MetadataRequest:
		a.body = b.metadata(r, act.ErrorCode)
	case *protocol.InitProducerIDRequest:
		a.body = b.initProducerID(r, act.ErrorCode)
	case *protocol.ProduceRequest:
		resp := c.produce(r, h.Version, &act)
		if r.Acks != 0 {
			a.body = resp
		}
	default:
		return answer{}, false // no default answer for this API
	}
	return a, true
}

// newRequest returns an empty request of API k, or nil for one the
// protocol package does not know.
func newRequest(k protocol.Key) protocol.Request {
	switch k {
	case protocol.KeyProduce:
		return new(protocol.ProduceRequest)
	case protocol.KeyMetadata:
		return new(protocol.MetadataRequest)
	case protocol.KeyAPIVersions:
		return new(protocol.APIVersionsRequest)
	case protocol.KeyInitProducerID:
		return protocol.NewInitProducerIDRequest()
	case protocol.KeyFindCoordinator:
		return new(protocol.FindCoordinatorRequest)
	case protocol.KeySaslHandshake:
		return new(protocol.SaslHandshakeRequest)
	case protocol.KeySaslAuthenticate:
		return new(protocol.SaslAuthenticateRequest)
	case protocol.KeyAddPartitionsToTxn:
		return new(protocol.AddPartitionsToTxnRequest)
	case protocol.KeyAddOffsetsToTxn:
		return new(protocol.AddOffsetsToTxnRequest)
	case protocol.KeyEndTxn:
		return new(protocol.EndTxnRequest)
	case protocol.KeyTxnOffsetCommit:
		return protocol.NewTxnOffsetCommitRequest()
	case protocol.KeyGetTelemetrySubscriptions:
		return new(protocol.GetTelemetrySubscriptionsRequest)
	case protocol.KeyPushTelemetry:
		return new(protocol.PushTelemetryRequest)
	}
	return nil
}

// versionRange returns the versions of k this broker advertises.
func (b *Broker) versionRange(k protocol.Key) (min, max int16, ok bool) {
	info, ok := protocol.Info(k)
	if !ok {
		return 0, 0, false
	}
	max = info.Max
	limit, capped := b.cfg.MaxVersions[k]
	if capped {
		max = limit
	} else if k == protocol.KeyGetTelemetrySubscriptions || k == protocol.KeyPushTelemetry {
		// Like a Kafka broker without a client-telemetry receiver, the
		// fake lists the KIP-714 APIs only when a test asks for them
		// (through MaxVersions) and answers them through its Handler.
		return 0, 0, false
	}
	if max < info.Min {
		return 0, 0, false
	}
	return info.Min, max, true
}

// apiVersions answers ApiVersions: every API of protocol.APIs, capped by
// Config.MaxVersions.
func (b *Broker) apiVersions(code int16) *protocol.APIVersionsResponse {
	resp := protocol.NewAPIVersionsResponse()
	resp.ErrorCode = code
	for _, api := range protocol.APIs() {
		if min, max, ok := b.versionRange(api.Key); ok {
			if code == protocol.ErrUnsupportedVersion.Code && api.Key != protocol.KeyAPIVersions {
				continue // KIP-511: only our own ApiVersions range
			}
			resp.APIKeys = append(resp.APIKeys, protocol.APIVersionsResponseKey{APIKey: int16(api.Key), MinVersion: min, MaxVersion: max})
		}
	}
	return resp
}

// clusterID is the cluster id every Metadata answer carries.
var clusterID = "fakebroker"

// metadata answers Metadata: all brokers, and the requested topics (all of
// them for a nil list) with their leaders; unknown topics get
// UNKNOWN_TOPIC_OR_PARTITION. A non-zero code is set on every topic.
func (b *Broker) metadata(req *protocol.MetadataRequest, code int16) *protocol.MetadataResponse {
	resp := protocol.NewMetadataResponse()
	resp.ClusterID = &clusterID
	resp.ControllerID = 0
	for _, n := range b.nodes {
		resp.Brokers = append(resp.Brokers, protocol.MetadataBroker{NodeID: n.id, Host: n.host, Port: n.port})
	}
	var want []string
	if req.Topics == nil {
		want = b.names
	}
	for _, rt := range req.Topics {
		switch {
		case rt.Name != nil:
			want = append(want, *rt.Name)
		default:
			want = append(want, b.nameForID(rt.TopicID))
		}
	}
	for _, name := range want {
		mt := protocol.MetadataTopic{Name: &name, TopicAuthorizedOperations: protocol.AuthorizedOperationsUnknown}
		t := b.topics[name]
		switch {
		case code != 0:
			mt.ErrorCode = code
		case t == nil:
			mt.ErrorCode = protocol.ErrUnknownTopicOrPartition.Code
		default:
			mt.TopicID = t.id
			mt.Partitions = make([]protocol.MetadataPartition, len(t.parts))
			for i, p := range t.parts {
				p.mu.Lock()
				leader, epoch := p.leader, p.leaderEpoch
				p.mu.Unlock()
				mt.Partitions[i] = protocol.MetadataPartition{
					PartitionIndex: int32(i), LeaderID: leader, LeaderEpoch: epoch,
					ReplicaNodes: []int32{leader}, IsrNodes: []int32{leader},
				}
			}
		}
		resp.Topics = append(resp.Topics, mt)
	}
	return resp
}

func (b *Broker) nameForID(id [16]byte) string {
	for name, t := range b.topics {
		if t.id == id {
			return name
		}
	}
	return ""
}

// initProducerID answers InitProducerId. A request carrying a producer id
// this broker issued, with its current epoch (v3+, KIP-360), gets the same
// id with the epoch bumped; anything else gets a fresh id, counting up
// from 1000, at epoch 0. (Kafka itself hands an idempotent producer a fresh
// id either way; bumping exercises the client's epoch-bump path.)
func (b *Broker) initProducerID(req *protocol.InitProducerIDRequest, code int16) *protocol.InitProducerIDResponse {
	resp := protocol.NewInitProducerIDResponse()
	if code != 0 {
		resp.ErrorCode, resp.ProducerEpoch = code, -1
		return resp
	}
	b.pidMu.Lock()
	defer b.pidMu.Unlock()
	if cur, ok := b.epochs[req.ProducerID]; ok && req.ProducerID >= 0 && req.ProducerEpoch == cur && cur < 32767 {
		b.epochs[req.ProducerID] = cur + 1
		resp.ProducerID, resp.ProducerEpoch = req.ProducerID, cur+1
		return resp
	}
	id := b.nextPID
	b.nextPID++
	b.epochs[id] = 0
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return resp
}
