package cli

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/ddblake/ddblake/pipeline"
)

// maxListed bounds the errors listed after a summary line.
const maxListed = 20

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress shows records and bytes read as batches are written, on a
// terminal only. Its methods are safe for concurrent use; a nil
// *progress does nothing.
type progress struct {
	mu      sync.Mutex
	bar     *progressbar.ProgressBar
	records int
}

func newProgress(w io.Writer, what string) *progress {
	if !isTerminal(w) {
		return nil
	}
	return &progress{bar: progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowBytes(true),
		progressbar.OptionUseIECUnits(false),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionClearOnFinish(),
	)}
}

// add counts one written batch.
func (p *progress) add(pr pipeline.Progress) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.records += pr.Records
	p.bar.Describe(group(p.records) + " records")
	_ = p.bar.Add64(pr.RawBytes)
}

// done clears the bar.
func (p *progress) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.bar.Finish()
	_ = p.bar.Clear()
}

// group writes n with thousands separators: 1234567 → "1,234,567".
func group(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// plural writes "1 input", "2 inputs", "3 batches".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "ch") {
		return group(n) + " " + noun + "es"
	}
	return group(n) + " " + noun + "s"
}

// iecBytes writes a size in B, KiB, MiB, GiB or TiB with one decimal.
func iecBytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v := float64(n)
	for _, unit := range []string{"KiB", "MiB", "GiB", "TiB"} {
		v /= 1024
		if v < 1024 || unit == "TiB" {
			return strconv.FormatFloat(v, 'f', 1, 64) + " " + unit
		}
	}
	return ""
}

// seconds writes an elapsed time: "0.81s" under a minute, else "2m5s".
func seconds(d time.Duration) string {
	if d < time.Minute {
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	}
	return d.Round(time.Second).String()
}

// rate is n per second of d.
func rate(n float64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return n / d.Seconds()
}

// tableList writes "chat_messages 900, chat_rooms 300", by name.
func tableList(rows map[string]int) string {
	names := make([]string, 0, len(rows))
	for t := range rows {
		names = append(names, t)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, t := range names {
		parts[i] = t + " " + group(rows[t])
	}
	return strings.Join(parts, ", ")
}

// listErrors writes one line per error, at most maxListed, then how many
// more there were (more counts errors not in lines).
func listErrors(w io.Writer, lines []string, more int) {
	for i, l := range lines {
		if i == maxListed {
			more += len(lines) - maxListed
			break
		}
		fmt.Fprintf(w, "  %s\n", l)
	}
	if more > 0 {
		fmt.Fprintf(w, "  ... and %s more\n", group(more))
	}
}
