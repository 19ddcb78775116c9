package main

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/tributary-go/tributary/producer"
)

// printMetrics prints the producer's metrics as Java's
// ToolsUtils.printMetrics does: "group:name:{tags}" sorted, padded to the
// longest, with three decimals.
func printMetrics(w io.Writer, clientID string, m producer.Metrics) {
	type row struct {
		name  string
		value float64
	}
	var rows []row
	width := len("Metric Name")
	for _, x := range m.List() {
		tags := "{client-id=" + clientID
		switch x.Group {
		case producer.GroupTopic:
			tags += ", topic=" + x.Topic
		case producer.GroupNode:
			tags += ", node-id=node-" + strconv.Itoa(int(x.Node))
		}
		name := x.Group + ":" + x.Name + ":" + tags + "}"
		rows = append(rows, row{name, x.Value})
		width = max(width, len(name))
	}
	slices.SortFunc(rows, func(a, b row) int { return strings.Compare(a.name, b.name) })
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "\n%-*s   %s\n", width, "Metric Name", "Value")
	for _, r := range rows {
		fmt.Fprintf(bw, "%-*s : %.3f\n", width, r.name, r.value)
	}
	bw.Flush()
}
