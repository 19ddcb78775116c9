// Package compress implements the four compression codecs a Kafka record
// batch may use — gzip, snappy, lz4 and zstd — framed exactly as the Java
// client frames them, so that every broker and consumer can read what
// Tributary writes.
//
// # Place in the data flow
//
// The accumulator closes a batch with protocol.BatchBuilder, which hands the
// batch's records section to a [Compressor]; protocol.ReadBatch decompresses
// with [Decompress]. Nothing else imports this package, and it imports
// nothing from Tributary.
//
// # Framing
//
//   - gzip: an ordinary gzip member (RFC 1952).
//   - snappy: written in xerial framing, as the Java client writes it, so
//     that old Java consumers (which only detect the framing by its magic)
//     and every other client read it. Read in both xerial and raw form,
//     because librdkafka writes raw blocks.
//   - lz4: an LZ4 frame (magic 0x184D2204) with 64 KiB independent blocks
//     and no block or content checksums or content size: FLG 0x60, BD 0x40,
//     what Java's Lz4BlockOutputStream (formerly KafkaLZ4BlockOutputStream)
//     writes and what its reader insists on.
//   - zstd: one standard zstd frame with its content size.
//
// # Levels
//
// [NewCompressor] takes the Java property's level, 0 meaning the Java
// default:
//
//   - compression.gzip.level: 1–9 (or -1), default 6 (Deflater's default).
//   - compression.lz4.level: 1–17, default 9. Java uses lz4-java's fast
//     compressor at the default level and its high-compression one at any
//     other; so do we: 9 is lz4.Fast, and other levels map to pierrec/lz4's
//     nine HC levels (1–8 → Level1–Level8, 10–17 → Level9).
//   - compression.zstd.level: -131072–22, default 3. klauspost/compress has
//     four encoder levels; the mapping is zstd.EncoderLevelFromZstd: below
//     3 → SpeedFastest, 3–5 → SpeedDefault, 6–9 → SpeedBetterCompression,
//     10 and above → SpeedBestCompression.
//
// # Concurrency and memory
//
// A [Compressor] is safe for concurrent use; it pools its encoders and
// scratch state, so compressing into a dst with room allocates little or
// nothing once warm. [Decompress] is safe for concurrent use and pools its
// decoders. Its output is bounded by [MaxDecompressedSize] so that a
// decompression bomb in a hostile or corrupt batch fails with
// [ErrTooLarge] instead of exhausting memory.
//
//	c, err := compress.NewCompressor(compress.Zstd, 0)
//	if err != nil { ... }
//	out, err := c.Compress(scratch[:0], records)
//	...
//	plain, err := compress.Decompress(buf[:0], compress.Zstd, out)
package compress
