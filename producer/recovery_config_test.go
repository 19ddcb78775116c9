package producer

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tributary-go/tributary/metadata"
)

// TestMetadataRecoveryConfig: the defaults are Java 4.x's (rebootstrap,
// 5 minutes), the options set both settings, 0 means "at once", and bad
// values fail New with a *ConfigError naming the property.
func TestMetadataRecoveryConfig(t *testing.T) {
	c := defaultConfig()
	s, d := c.metadataRecoveryConfig()
	assert.Equal(t, metadata.RecoveryRebootstrap, s)
	assert.Equal(t, 5*time.Minute, d)

	c = defaultConfig()
	WithBootstrapServers("localhost:9092")(c)
	WithMetadataRecoveryStrategy(metadata.RecoveryNone)(c)
	WithRebootstrapTrigger(0)(c)
	require.NoError(t, c.validate())
	s, d = c.metadataRecoveryConfig()
	assert.Equal(t, metadata.RecoveryNone, s)
	assert.Equal(t, time.Nanosecond, d, "0 re-bootstraps at the first failed refresh")
	assert.True(t, c.explicit[keyMetadataRecoveryStrategy] && c.explicit[keyRebootstrapTrigger])

	for _, opt := range []Option{WithRebootstrapTrigger(-time.Second), WithMetadataRecoveryStrategy(metadata.RecoveryStrategy(7))} {
		_, err := New(WithBootstrapServers("localhost:9092"), opt)
		var ce *ConfigError
		require.True(t, errors.As(err, &ce), "%v", err)
		assert.Contains(t, []string{keyRebootstrapTrigger, keyMetadataRecoveryStrategy}, ce.Key)
	}
}
