package kafkatest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Listener names of every node. Clients use ListenerPlaintext and
// ListenerSASL; replication runs over INTERNAL and the KRaft quorum over
// CONTROLLER, both always direct on loopback, so a proxy placed in front of
// a client listener (Options.Advertise) cuts clients off without touching
// replication.
const (
	ListenerPlaintext = "CLIENT"
	ListenerSASL      = "SASL_SSL"
	listenerInternal  = "INTERNAL"
	listenerControl   = "CONTROLLER"
)

// User is a SASL identity known to every cluster.
type User struct {
	Name     string
	Password string
}

// The users every cluster knows, for PLAIN, SCRAM-SHA-256 and
// SCRAM-SHA-512 alike. Admin is a super user; Alice and Bob have no ACLs
// until a test grants them some. PLAINTEXT connections authenticate as
// User:ANONYMOUS, also a super user, so tests that do not care about
// security use the plaintext listener unhindered.
var (
	Admin = User{Name: "admin", Password: "admin-secret"}
	Alice = User{Name: "alice", Password: "alice-secret"}
	Bob   = User{Name: "bob", Password: "bob-secret"}
	users = []User{Admin, Alice, Bob}
)

// scramArgs are the StorageTool format arguments that create the SCRAM
// credentials of every user (KIP-900: SCRAM users in KRaft bootstrap).
func scramArgs() []string {
	var args []string
	for _, mech := range []string{"SCRAM-SHA-256", "SCRAM-SHA-512"} {
		for _, u := range users {
			args = append(args, "--add-scram", fmt.Sprintf("%s=[name=%s,password=%s]", mech, u.Name, u.Password))
		}
	}
	return args
}

// nodeProperties returns node n's server.properties.
func (c *Cluster) nodeProperties(n *Node) map[string]string {
	var voters []string
	for _, o := range c.Nodes {
		voters = append(voters, fmt.Sprintf("%d@127.0.0.1:%d", o.ID, o.ControllerPort))
	}
	var plain strings.Builder
	plain.WriteString("org.apache.kafka.common.security.plain.PlainLoginModule required")
	for _, u := range users {
		fmt.Fprintf(&plain, " user_%s=%q", u.Name, u.Password)
	}
	plain.WriteString(";")
	const scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
	rf := strconv.Itoa(min(3, len(c.Nodes)))
	minISR := strconv.Itoa(min(2, len(c.Nodes)))
	p := map[string]string{
		"node.id":                   strconv.Itoa(n.ID),
		"process.roles":             "broker,controller",
		"controller.quorum.voters":  strings.Join(voters, ","),
		"controller.listener.names": listenerControl,
		"listeners": fmt.Sprintf("%s://127.0.0.1:%d,%s://127.0.0.1:%d,%s://127.0.0.1:%d,%s://127.0.0.1:%d",
			listenerInternal, n.InternalPort, ListenerPlaintext, n.PlaintextPort,
			ListenerSASL, n.SASLPort, listenerControl, n.ControllerPort),
		"advertised.listeners": fmt.Sprintf("%s://127.0.0.1:%d,%s://%s,%s://%s",
			listenerInternal, n.InternalPort, ListenerPlaintext, n.AdvertisedPlaintext,
			ListenerSASL, n.AdvertisedSASL),
		"listener.security.protocol.map": fmt.Sprintf("%s:PLAINTEXT,%s:PLAINTEXT,%s:SASL_SSL,%s:PLAINTEXT",
			listenerInternal, ListenerPlaintext, ListenerSASL, listenerControl),
		"inter.broker.listener.name": listenerInternal,
		"log.dirs":                   filepath.Join(n.Dir, "data"),

		"num.partitions":                           "3",
		"default.replication.factor":               rf,
		"min.insync.replicas":                      minISR,
		"offsets.topic.replication.factor":         rf,
		"offsets.topic.num.partitions":             "10",
		"transaction.state.log.replication.factor": rf,
		"transaction.state.log.min.isr":            minISR,
		"transaction.state.log.num.partitions":     "10",
		"group.initial.rebalance.delay.ms":         "0",
		"auto.create.topics.enable":                "true",

		"authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
		"super.users":           "User:" + Admin.Name + ";User:ANONYMOUS",

		"sasl.enabled.mechanisms":                               "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
		"listener.name.sasl_ssl.plain.sasl.jaas.config":         plain.String(),
		"listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config": scram,
		"listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": scram,
		"ssl.keystore.type":                                     "PEM",
		"ssl.keystore.location":                                 c.pki.keyStore,

		// A 2-core machine runs three of these beside the tests.
		"num.network.threads":                              "2",
		"num.io.threads":                                   "4",
		"background.threads":                               "4",
		"log.cleaner.threads":                              "1",
		"log.cleaner.dedupe.buffer.size":                   strconv.Itoa(8 << 20),
		"log.segment.bytes":                                strconv.Itoa(64 << 20),
		"share.coordinator.state.topic.replication.factor": rf,
		"share.coordinator.state.topic.min.isr":            minISR,
	}
	for k, v := range c.opts.BrokerConfig {
		p[k] = v
	}
	return p
}

// writeProperties writes props sorted by key, in java.util.Properties
// syntax (backslashes and line breaks escaped).
func writeProperties(path string, props map[string]string) error {
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# Written by internal/kafkatest.\n")
	for _, k := range keys {
		v := strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`).Replace(props[k])
		fmt.Fprintf(&b, "%s=%s\n", k, v)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// log4j2Server is the log4j2 configuration of a node: everything at INFO
// into one file per node, which a failing test prints the end of.
const log4j2Server = `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <File name="file" fileName="%s" append="true">
      <PatternLayout pattern="[%%d] %%p %%m (%%c)%%n"/>
    </File>
  </Appenders>
  <Loggers>
    <Root level="INFO"><AppenderRef ref="file"/></Root>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="org.apache.kafka.clients" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
  </Loggers>
</Configuration>
`

// log4j2Tools sends tool logs (warnings and worse) to stderr, keeping
// stdout for the tool's own output.
const log4j2Tools = `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <Console name="stderr" target="SYSTEM_ERR">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Root level="WARN"><AppenderRef ref="stderr"/></Root>
  </Loggers>
</Configuration>
`
