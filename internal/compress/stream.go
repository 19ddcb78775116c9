package compress

import (
	"fmt"
	"io"
)

// appendWriter is an io.Writer that appends to b. The streaming encoders
// (gzip, lz4) write into one, so compressed output lands directly in the
// caller's dst with no intermediate buffer.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// corrupt wraps a codec library's error so that it matches ErrCorrupt.
func corrupt(name string, err error) error {
	return fmt.Errorf("%w: %s: %v", ErrCorrupt, name, err)
}

// readBounded appends everything r yields to dst, failing with ErrTooLarge
// once more than MaxDecompressedSize bytes arrive. Reading straight into
// dst's spare capacity avoids the copy io.ReadAll would make; the slice
// grows geometrically, starting from a guess based on the input size.
func readBounded(dst []byte, r io.Reader, srcLen int, name string) ([]byte, error) {
	start := len(dst)
	zeroReads := 0
	for {
		if len(dst) == cap(dst) {
			grow := max(cap(dst)-start, 4*srcLen, 512)
			grow = min(grow, maxOutput+1-(len(dst)-start))
			dst = append(dst[:cap(dst)], make([]byte, grow)...)[:len(dst)]
		}
		// Never ask for more than one byte past the limit, so a bomb
		// cannot make us fill more than the bound.
		room := min(cap(dst), start+maxOutput+1)
		n, err := r.Read(dst[len(dst):room])
		dst = dst[:len(dst)+n]
		if len(dst)-start > maxOutput {
			return dst[:start], fmt.Errorf("%w: %s output over %d bytes", ErrTooLarge, name, maxOutput)
		}
		switch {
		case err == io.EOF:
			return dst, nil
		case err != nil:
			return dst[:start], fmt.Errorf("%w: %s: %v", ErrCorrupt, name, err)
		case n == 0:
			// A reader that keeps returning (0, nil) would spin forever;
			// none of ours should, but hostile input gets no benefit of
			// the doubt.
			zeroReads++
			if zeroReads > 100 {
				return dst[:start], fmt.Errorf("%w: %s: %v", ErrCorrupt, name, io.ErrNoProgress)
			}
		default:
			zeroReads = 0
		}
	}
}
