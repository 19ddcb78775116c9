package conn

import (
	"context"
	"fmt"

	"github.com/tributary-go/tributary/protocol"
)

// The handshake is the first exchange on every connection. We send
// ApiVersions at the highest version we speak (v4). A broker that knows that
// version answers with its ranges for every API and, from v3, the feature
// levels the cluster finalized (KIP-584). A broker that does not answers
// UNSUPPORTED_VERSION with a v0-shaped body (KIP-511) listing only its own
// ApiVersions range; the reader decodes that at v0 (see Conn.decode), and we
// try again once, on the same connection, at min(ours, the broker's max), as
// the Java client's NetworkClient does. A broker too old to list anything
// gets v0, which every broker understands.

// handshake runs ApiVersions and records the broker's ranges and features.
// It runs before Dial returns the Conn, so the fields it sets need no lock.
func (c *Conn) handshake(ctx context.Context) error {
	ours, _ := protocol.Info(protocol.KeyAPIVersions)
	req := &protocol.APIVersionsRequest{
		ClientSoftwareName:    c.cfg.SoftwareName,
		ClientSoftwareVersion: c.cfg.SoftwareVersion,
	}
	v := ours.Max
	for retried := false; ; retried = true {
		r, err := c.doAt(ctx, req, v)
		if err != nil {
			return fmt.Errorf("ApiVersions v%d: %w", v, err)
		}
		resp := r.(*protocol.APIVersionsResponse)
		if resp.ErrorCode == protocol.ErrUnsupportedVersion.Code && !retried {
			next := int16(0)
			for _, k := range resp.APIKeys {
				if protocol.Key(k.APIKey) == protocol.KeyAPIVersions {
					next = min(k.MaxVersion, ours.Max)
				}
			}
			if next < v && next >= ours.Min {
				c.log.Debug("broker does not support our ApiVersions version; retrying lower",
					"broker", c.addr, "tried", v, "retry", next)
				v = next
				continue
			}
		}
		if err := protocol.ErrorForCode(resp.ErrorCode); err != nil {
			return fmt.Errorf("ApiVersions v%d: %w", v, err)
		}
		c.versions = resp.Versions()
		if resp.FinalizedFeaturesEpoch >= 0 && len(resp.FinalizedFeatures) > 0 {
			c.features = make(map[string]int16, len(resp.FinalizedFeatures))
			for _, f := range resp.FinalizedFeatures {
				c.features[f.Name] = f.MaxVersionLevel
			}
		}
		return nil
	}
}
