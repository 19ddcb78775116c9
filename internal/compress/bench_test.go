package compress

import "testing"

// BenchmarkCompress measures each codec at its Java default level on 16 KiB
// of JSON-like records (a default batch.size worth), into a reused dst.
func BenchmarkCompress(b *testing.B) {
	src := jsonRecords(16 << 10)
	for _, c := range allCodecs {
		cp := mustCompressor(b, c, 0)
		b.Run(c.String(), func(b *testing.B) {
			dst := make([]byte, 0, 64<<10)
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			var out []byte
			for b.Loop() {
				var err error
				if out, err = cp.Compress(dst[:0], src); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(src))/float64(len(out)), "ratio")
		})
	}
}

// BenchmarkDecompress measures decoding the same payload; MB/s counts
// decompressed bytes.
func BenchmarkDecompress(b *testing.B) {
	src := jsonRecords(16 << 10)
	for _, c := range allCodecs {
		comp, err := mustCompressor(b, c, 0).Compress(nil, src)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.String(), func(b *testing.B) {
			dst := make([]byte, 0, 64<<10)
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				if _, err := Decompress(dst[:0], c, comp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
