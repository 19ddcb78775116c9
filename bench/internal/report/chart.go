package report

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/tributary-go/tributary/bench/internal/workload"
)

// The chart has two panels for the headline scenario: records/s per client
// (higher is better) and client CPU µs per record (lower is better). Plain
// bars, value labels above them, client names below, drawn with the
// standard library's image packages and basicfont's 7×13 bitmap face.

var (
	white   = color.RGBA{255, 255, 255, 255}
	ink     = color.RGBA{33, 33, 33, 255}
	grid    = color.RGBA{225, 225, 225, 255}
	palette = map[string]color.RGBA{
		"tributary":          {0, 114, 178, 255},
		"tributary-future":   {86, 180, 233, 255},
		"franz-go":           {230, 159, 0, 255},
		"sarama":             {0, 158, 115, 255},
		"kafka-go":           {204, 121, 167, 255},
		"confluent-kafka-go": {213, 94, 0, 255},
	}
)

// Chart renders chart.png.
func (r *Report) Chart() ([]byte, error) {
	const w, h = 1000, 460
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), &image.Uniform{white}, image.Point{}, draw.Src)

	var names []string
	var tput, cpu []float64
	for _, c := range r.clientsIn(workload.HeadlineScenario) {
		x, _ := r.result(workload.HeadlineScenario, c)
		if x.Err != "" || c == workload.NullClient {
			continue
		}
		names = append(names, c)
		tput = append(tput, x.RecordsPerSec)
		cpu = append(cpu, x.CPUNet)
	}
	title := "Headline: unkeyed, acks=1, 100 B records, 16 partitions, linger 5 ms, 64 KiB batches"
	text(img, 20, 22, title, ink)
	text(img, 20, 40, fmt.Sprintf("%s, %d CPUs, %s", r.Machine.CPUModel, r.Machine.CPUs, r.Machine.GoVersion), ink)
	if len(names) == 0 {
		text(img, 20, 80, "no successful headline results", ink)
		return encode(img)
	}
	panel(img, image.Rect(20, 60, w/2-10, h-10), "records/s (higher is better)", names, tput, func(v float64) string {
		return thousands(v)
	})
	panel(img, image.Rect(w/2+10, 60, w-20, h-10), "client CPU us per record, driver floor subtracted (lower is better)", names, cpu, func(v float64) string {
		return fmt.Sprintf("%.2f", v)
	})
	return encode(img)
}

// panel draws one bar chart inside rect.
func panel(img *image.RGBA, rect image.Rectangle, title string, names []string, vals []float64, label func(float64) string) {
	text(img, rect.Min.X, rect.Min.Y+12, title, ink)
	top, bottom := rect.Min.Y+40, rect.Max.Y-50
	left, right := rect.Min.X+10, rect.Max.X-10
	maxv := 0.0
	for _, v := range vals {
		maxv = max(maxv, v)
	}
	if maxv <= 0 {
		maxv = 1
	}
	for i := 0; i <= 4; i++ { // light grid lines at quarters
		y := bottom - (bottom-top)*i/4
		fill(img, image.Rect(left, y, right, y+1), grid)
	}
	fill(img, image.Rect(left, bottom, right, bottom+1), ink)
	slot := (right - left) / len(names)
	barW := min(slot*3/5, 70)
	for i, v := range vals {
		x0 := left + slot*i + (slot-barW)/2
		y0 := bottom - int(float64(bottom-top)*v/maxv)
		c, ok := palette[names[i]]
		if !ok {
			c = ink
		}
		fill(img, image.Rect(x0, y0, x0+barW, bottom), c)
		l := label(v)
		text(img, x0+barW/2-7*len(l)/2, y0-4, l, ink)
		// Names below the bar, split at '-' when too wide for the slot.
		lines := []string{names[i]}
		if 7*len(names[i]) > slot-4 {
			lines = splitName(names[i])
		}
		for j, s := range lines {
			text(img, x0+barW/2-7*len(s)/2, bottom+16+14*j, s, ink)
		}
	}
}

func splitName(n string) []string {
	for i := len(n) / 2; i < len(n); i++ {
		if n[i] == '-' {
			return []string{n[:i+1], n[i+1:]}
		}
	}
	for i := len(n) / 2; i > 0; i-- {
		if n[i] == '-' {
			return []string{n[:i+1], n[i+1:]}
		}
	}
	return []string{n}
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	draw.Draw(img, r, &image.Uniform{c}, image.Point{}, draw.Src)
}

func text(img *image.RGBA, x, y int, s string, c color.RGBA) {
	d := font.Drawer{Dst: img, Src: &image.Uniform{c}, Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func encode(img image.Image) ([]byte, error) {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
