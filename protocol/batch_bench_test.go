package protocol

import (
	"fmt"
	"testing"
)

// btBenchRecords returns n records shaped like the brief's workload: a
// ~10-byte key and a 100-byte JSON-ish value.
func btBenchRecords(n int) (keys, values [][]byte) {
	for i := range n {
		keys = append(keys, []byte(fmt.Sprintf("user-%05d", i%50_000)))
		v := fmt.Sprintf(`{"id":%d,"event":"click","page":"/p/%d","amount":%d.%02d,"ok":true}`, i, i%977, i%5000, i%100)
		for len(v) < 100 {
			v += " "
		}
		values = append(values, []byte(v[:100]))
	}
	return keys, values
}

// BenchmarkBatchBuild builds and closes a 16 KiB-class batch of 140
// records per iteration, with each codec. ns/record and MB/s count the
// uncompressed record bytes.
func BenchmarkBatchBuild(b *testing.B) {
	const n = 140 // about batch.size (16 KiB) of records
	keys, values := btBenchRecords(n)
	var plain BatchBuilder
	plain.Reset(nil)
	for i := range n {
		plain.Append(1_700_000_000_000+int64(i), keys[i], values[i], nil)
	}
	recordBytes := plain.Len() - BatchHeaderSize
	for _, comp := range btCodecs(b) {
		b.Run(btCodecName(comp), func(b *testing.B) {
			var bb BatchBuilder
			buf := make([]byte, 0, 32<<10)
			opts := BatchOptions{ProducerID: 1, ProducerEpoch: 0, BaseSequence: 0, Compressor: comp}
			b.ReportAllocs()
			b.SetBytes(int64(recordBytes))
			var size int
			for b.Loop() {
				bb.Reset(buf)
				for i := range n {
					bb.Append(1_700_000_000_000+int64(i), keys[i], values[i], nil)
				}
				out, err := bb.Close(opts)
				if err != nil {
					b.Fatal(err)
				}
				size = len(out)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
			b.ReportMetric(float64(size), "batch-bytes")
		})
	}
}

// BenchmarkBatchAppend measures Append alone into a batch with room.
func BenchmarkBatchAppend(b *testing.B) {
	keys, values := btBenchRecords(1024)
	var bb BatchBuilder
	buf := make([]byte, 0, 1<<20)
	bb.Reset(buf)
	size := RecordSize(0, 1000, keys[0], values[0], nil)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	i := 0
	for b.Loop() {
		if bb.Len()+size+16 > cap(buf) {
			bb.Reset(buf)
		}
		bb.Append(1_700_000_000_000, keys[i&1023], values[i&1023], nil)
		i++
	}
}

// BenchmarkReadBatch measures decoding a closed, uncompressed batch.
func BenchmarkReadBatch(b *testing.B) {
	const n = 140
	keys, values := btBenchRecords(n)
	for _, comp := range btCodecs(b) {
		var bb BatchBuilder
		bb.Reset(nil)
		for i := range n {
			bb.Append(1_700_000_000_000+int64(i), keys[i], values[i], nil)
		}
		recordBytes := bb.Len() - BatchHeaderSize
		batch, err := bb.Close(BatchOptions{Compressor: comp})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(btCodecName(comp), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(recordBytes))
			for b.Loop() {
				if _, _, err := ReadBatch(batch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
