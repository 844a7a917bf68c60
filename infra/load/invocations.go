package load

import (
	"bytes"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// InvocationLog reads a function's output as the runtime interface emulator
// writes it and counts the invocations from its REPORT lines, with their
// durations and the bytes of log output, which CloudWatch Logs would ingest.
// It is safe for concurrent use.
type InvocationLog struct {
	mu       sync.Mutex
	partial  []byte
	counting bool
	stats    InvocationStats
}

// InvocationStats sums a function's invocations.
type InvocationStats struct {
	Invocations int
	Duration    time.Duration // the sum of the REPORT lines' Duration
	Inits       []time.Duration
	LogBytes    int64
}

var (
	reportDuration = regexp.MustCompile(`\tDuration: ([0-9.]+) ms`)
	reportInit     = regexp.MustCompile(`Init Duration: ([0-9.]+) ms`)
)

// Count starts or stops counting.
func (l *InvocationLog) Count(on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counting = on
}

// Write takes output, which may end in the middle of a line.
func (l *InvocationLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counting {
		l.stats.LogBytes += int64(len(p))
	}
	l.partial = append(l.partial, p...)
	for {
		end := bytes.IndexByte(l.partial, '\n')
		if end < 0 {
			break
		}
		l.line(l.partial[:end])
		l.partial = l.partial[end+1:]
	}
	return len(p), nil
}

func (l *InvocationLog) line(line []byte) {
	if !l.counting || !bytes.HasPrefix(line, []byte("REPORT RequestId:")) {
		return
	}
	l.stats.Invocations++
	if m := reportDuration.FindSubmatch(line); m != nil {
		l.stats.Duration += millis(m[1])
	}
	if m := reportInit.FindSubmatch(line); m != nil {
		l.stats.Inits = append(l.stats.Inits, millis(m[1]))
	}
}

// Stats returns the sums so far.
func (l *InvocationLog) Stats() InvocationStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.stats
	out.Inits = append([]time.Duration(nil), l.stats.Inits...)
	return out
}

func millis(text []byte) time.Duration {
	ms, _ := strconv.ParseFloat(string(text), 64)
	return time.Duration(ms * float64(time.Millisecond))
}
