package telemetry

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Namespace is the CloudWatch namespace of every metric the relay emits.
const Namespace = "JourneyRelay"

// Units used by the relay's metrics, as CloudWatch names them.
const (
	Count        = "Count"
	Milliseconds = "Milliseconds"
	Bytes        = "Bytes"
)

// maxValuesPerMetric is the EMF limit on values in one metric's array.
const maxValuesPerMetric = 100

// NewLogger returns the slog logger every function uses: JSON when the
// function's log format is JSON, with the request id of the invocation whose
// context is passed to each call.
func NewLogger() *slog.Logger {
	return lambdacontext.NewLogger()
}

// Recorder accumulates counters and samples and writes them as one EMF line.
// It is safe for concurrent use.
type Recorder struct {
	mu       sync.Mutex
	out      io.Writer
	function string
	now      func() time.Time
	units    map[string]string
	counts   map[string]float64
	samples  map[string][]float64
	totals   map[string]float64
}

// NewRecorder returns a Recorder that writes to out under the dimension
// Function=function. A nil out means standard output, where Lambda's log
// agent picks EMF lines up.
func NewRecorder(out io.Writer, function string) *Recorder {
	if out == nil {
		out = os.Stdout
	}
	return &Recorder{
		out:      out,
		function: function,
		now:      time.Now,
		units:    map[string]string{},
		counts:   map[string]float64{},
		samples:  map[string][]float64{},
		totals:   map[string]float64{},
	}
}

// Add increases the counter name by n.
func (r *Recorder) Add(name string, n float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.units[name] = Count
	r.counts[name] += n
	r.totals[name] += n
}

// Observe records one sample of name in unit, such as a delivery lag in milliseconds.
func (r *Recorder) Observe(name string, value float64, unit string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.units[name] = unit
	r.samples[name] = append(r.samples[name], value)
	r.totals[name+".samples"]++
}

// Total returns how much has been added to the counter name since the
// Recorder was made, flushed or not. Tests and the local stack read it.
func (r *Recorder) Total(name string) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.totals[name]
}

// Flush writes what was recorded since the last Flush as EMF lines and resets it.
// It writes nothing when nothing was recorded.
func (r *Recorder) Flush() error {
	r.mu.Lock()
	counts, samples, units := r.counts, r.samples, r.units
	r.counts, r.samples, r.units = map[string]float64{}, map[string][]float64{}, map[string]string{}
	r.mu.Unlock()

	if len(counts) == 0 && len(samples) == 0 {
		return nil
	}
	// Samples beyond the EMF limit of values per metric go into further lines.
	for len(counts) > 0 || len(samples) > 0 {
		line := r.line(counts, samples, units)
		if _, err := r.out.Write(line); err != nil {
			return err
		}
		counts = nil
		next := map[string][]float64{}
		for name, values := range samples {
			if len(values) > maxValuesPerMetric {
				next[name] = values[maxValuesPerMetric:]
			}
		}
		samples = next
	}
	return nil
}

func (r *Recorder) line(counts map[string]float64, samples map[string][]float64, units map[string]string) []byte {
	type metric struct {
		Name string `json:"Name"`
		Unit string `json:"Unit"`
	}
	doc := map[string]any{"Function": r.function}
	var metrics []metric
	for name, v := range counts {
		doc[name] = v
		metrics = append(metrics, metric{name, units[name]})
	}
	for name, values := range samples {
		if len(values) > maxValuesPerMetric {
			values = values[:maxValuesPerMetric]
		}
		doc[name] = values
		metrics = append(metrics, metric{name, units[name]})
	}
	sort.Slice(metrics, func(i, j int) bool { return metrics[i].Name < metrics[j].Name })
	doc["_aws"] = map[string]any{
		"Timestamp": r.now().UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  Namespace,
			"Dimensions": [][]string{{"Function"}},
			"Metrics":    metrics,
		}},
	}
	line, _ := json.Marshal(doc) // The document holds only strings, numbers and slices of them.
	return append(line, '\n')
}
