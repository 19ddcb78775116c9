package compress

import (
	"bytes"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// gzipDefaultLevel is what Java's default (-1, Deflater.DEFAULT_COMPRESSION)
// means in zlib: level 6.
const gzipDefaultLevel = 6

// gzipEncoder pairs a pooled gzip.Writer with the appendWriter it writes
// into, so a borrowed encoder needs no allocation to target a new dst.
type gzipEncoder struct {
	w   *gzip.Writer
	out appendWriter
}

// gzipPool holds the gzip writers of one Compressor (one level).
type gzipPool struct {
	level int
	pool  sync.Pool
}

func newGzipPool(level int) *gzipPool {
	p := &gzipPool{level: level}
	p.pool.New = func() any {
		e := &gzipEncoder{}
		// The level was validated, so NewWriterLevel cannot fail.
		e.w, _ = gzip.NewWriterLevel(&e.out, p.level)
		return e
	}
	return p
}

func (p *gzipPool) compress(dst, src []byte) ([]byte, error) {
	e := p.pool.Get().(*gzipEncoder)
	e.out.b = dst
	e.w.Reset(&e.out)
	_, err := e.w.Write(src)
	if cerr := e.w.Close(); err == nil {
		err = cerr
	}
	dst = e.out.b
	e.out.b = nil // do not pin the caller's buffer from the pool
	p.pool.Put(e)
	return dst, err
}

var gzipDecoders = sync.Pool{New: func() any { return &gzipDecoder{} }}

type gzipDecoder struct {
	src bytes.Reader
	z   gzip.Reader
}

func gzipDecompress(dst, src []byte) ([]byte, error) {
	d := gzipDecoders.Get().(*gzipDecoder)
	defer gzipDecoders.Put(d)
	d.src.Reset(src)
	if err := d.z.Reset(&d.src); err != nil {
		d.src.Reset(nil)
		return dst, corrupt("gzip", err)
	}
	out, err := readBounded(dst, &d.z, len(src), "gzip")
	d.src.Reset(nil)
	return out, err
}
