package cli

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseProperties(t *testing.T) {
	props, err := ParseProperties(strings.NewReader("# comment\n! also\n\nacks = all\nlinger.ms: 10\nbootstrap.servers=a:1,b:2\npath=C:\\\\x\n"))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"acks": "all", "linger.ms": "10", "bootstrap.servers": "a:1,b:2", "path": `C:\x`}, props)

	_, err = ParseProperties(strings.NewReader("novalue\n"))
	assert.ErrorContains(t, err, "line 1")
	_, err = ParseProperties(strings.NewReader("a=b \\\n"))
	assert.ErrorContains(t, err, "continuation")
}

func TestKeyValues(t *testing.T) {
	kv := KeyValues{}
	require.NoError(t, kv.Set("acks=1"))
	require.NoError(t, kv.Set(" linger.ms = 5 "))
	assert.Equal(t, KeyValues{"acks": "1", "linger.ms": "5"}, kv)
	assert.Error(t, kv.Set("noequals"))
}
