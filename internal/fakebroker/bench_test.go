package fakebroker

import (
	"testing"

	"github.com/tributary-go/tributary/protocol"
)

// BenchmarkSink measures the broker as a benchmark sink: pipelined Produce
// requests (five in flight, acks=1) of one 1000-record batch each, through
// our own connection. Bytes are the batch bytes.
func BenchmarkSink(b *testing.B) {
	for _, store := range []bool{false, true} {
		name := "count"
		if store {
			name = "store"
		}
		b.Run(name, func(b *testing.B) {
			br, err := Start(Config{Topics: map[string]int32{"t": 1}, Store: store})
			if err != nil {
				b.Fatal(err)
			}
			defer br.Close()
			c := dial(b, br.Addrs()[0], nil)
			var bb protocol.BatchBuilder
			bb.Reset(nil)
			value := make([]byte, 100)
			for range 1000 {
				bb.Append(1700000000000, nil, value, nil)
			}
			records, _ := bb.Close(protocol.BatchOptions{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
			req := produceReq(1, "t", 0, records)
			v, _ := c.Version(protocol.KeyProduce)
			window := make(chan struct{}, 5)
			errs := make(chan error, 1)
			b.SetBytes(int64(len(records)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				window <- struct{}{}
				c.Send(req, v, true, func(_ protocol.Response, err error) {
					if err != nil {
						select {
						case errs <- err:
						default:
						}
					}
					<-window
				})
			}
			for range cap(window) {
				window <- struct{}{}
			}
			b.StopTimer()
			select {
			case err := <-errs:
				b.Fatal(err)
			default:
			}
			if got := br.Records("t", 0); got != int64(b.N)*1000 {
				b.Fatalf("broker has %d records, want %d", got, b.N*1000)
			}
		})
	}
}
