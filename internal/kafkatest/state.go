package kafkatest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// StateEnv names the environment variable holding the path of the state
// file of a cluster started by `kafkacluster up` (make test, make
// kafka-up); Shared attaches to that cluster.
const StateEnv = "TRIBUTARY_KAFKA_STATE"

// StateFile is the name of the state file in a cluster's directory.
const StateFile = "state.json"

// state is what a state file records: enough to use the cluster from
// another process, and to stop it.
type state struct {
	Version   string
	Dir       string
	ClusterID string
	LibDir    string
	CAFile    string
	KeyStore  string
	Detached  bool
	Nodes     []*Node
}

// SaveState writes the cluster's state file (Dir/state.json) and returns
// its path.
func (c *Cluster) SaveState() (string, error) {
	c.mu.Lock()
	s := state{
		Version: c.Version, Dir: c.Dir, ClusterID: c.ClusterID, LibDir: c.LibDir,
		CAFile: c.pki.caFile, KeyStore: c.pki.keyStore, Detached: c.opts.Detach, Nodes: c.Nodes,
	}
	b, err := json.MarshalIndent(s, "", "  ")
	c.mu.Unlock()
	if err != nil {
		return "", fmt.Errorf("kafkatest: %w", err)
	}
	path := filepath.Join(c.Dir, StateFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return "", fmt.Errorf("kafkatest: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("kafkatest: %w", err)
	}
	return path, nil
}

// Attach returns the cluster described by the state file at path, started
// by another process. Its nodes are controlled by pid (Kill, Terminate and
// Restart work; a restarted node is detached like the others), and Stop
// kills them but leaves the directory, which the starter owns.
func Attach(path string) (*Cluster, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kafkatest: reading cluster state: %w", err)
	}
	var s state
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("kafkatest: cluster state %s: %w", path, err)
	}
	if len(s.Nodes) == 0 {
		return nil, fmt.Errorf("kafkatest: cluster state %s lists no nodes", path)
	}
	caPEM, err := os.ReadFile(s.CAFile)
	if err != nil {
		return nil, fmt.Errorf("kafkatest: cluster state %s: %w", path, err)
	}
	c := &Cluster{
		Version: s.Version, Dir: s.Dir, ClusterID: s.ClusterID, LibDir: s.LibDir, Nodes: s.Nodes,
		opts:     Options{Version: s.Version, Detach: true, Logf: func(string, ...any) {}},
		pki:      &pki{caFile: s.CAFile, keyStore: s.KeyStore, caPEM: caPEM},
		toolsLog: filepath.Join(s.Dir, "log4j2-tools.xml"),
	}
	return c, nil
}
