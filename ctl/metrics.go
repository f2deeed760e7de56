package ctl

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// MetricWriter collects metric families for /metrics. A family is named
// once with its help and type; Counter and Gauge add samples to it. Names
// follow Prometheus conventions: snake case, base units (seconds, bytes),
// counters ending in _total. A sample that breaks them is not written and
// the mistake is reported in siecap_ctl_metric_errors_total.
type MetricWriter struct {
	fams   []*dto.MetricFamily
	byName map[string]*dto.MetricFamily
	errs   []string
}

// Label is one label of a sample.
type Label struct{ Name, Value string }

// L makes a Label.
func L(name, value string) Label { return Label{name, value} }

var (
	metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

func newMetricWriter() *MetricWriter {
	return &MetricWriter{byName: map[string]*dto.MetricFamily{}}
}

// Counter adds a sample of the counter family name (which must end in
// _total).
func (w *MetricWriter) Counter(name, help string, value float64, labels ...Label) {
	if !strings.HasSuffix(name, "_total") {
		w.errs = append(w.errs, fmt.Sprintf("counter %s does not end in _total", name))
		return
	}
	w.add(name, help, dto.MetricType_COUNTER, value, labels)
}

// Gauge adds a sample of the gauge family name.
func (w *MetricWriter) Gauge(name, help string, value float64, labels ...Label) {
	if strings.HasSuffix(name, "_total") {
		w.errs = append(w.errs, fmt.Sprintf("gauge %s ends in _total", name))
		return
	}
	w.add(name, help, dto.MetricType_GAUGE, value, labels)
}

func (w *MetricWriter) add(name, help string, typ dto.MetricType, value float64, labels []Label) {
	if !metricName.MatchString(name) {
		w.errs = append(w.errs, fmt.Sprintf("metric name %q is invalid", name))
		return
	}
	m := &dto.Metric{}
	for _, l := range labels {
		if !labelName.MatchString(l.Name) || strings.HasPrefix(l.Name, "__") {
			w.errs = append(w.errs, fmt.Sprintf("metric %s: label name %q is invalid", name, l.Name))
			return
		}
		m.Label = append(m.Label, &dto.LabelPair{Name: &l.Name, Value: &l.Value})
	}
	f := w.byName[name]
	if f == nil {
		f = &dto.MetricFamily{Name: &name, Help: &help, Type: typ.Enum()}
		w.byName[name] = f
		w.fams = append(w.fams, f)
	} else if f.GetType() != typ {
		w.errs = append(w.errs, fmt.Sprintf("metric %s written as %s and %s", name, f.GetType(), typ))
		return
	}
	v := value
	if typ == dto.MetricType_COUNTER {
		m.Counter = &dto.Counter{Value: &v}
	} else {
		m.Gauge = &dto.Gauge{Value: &v}
	}
	f.Metric = append(f.Metric, m)
}

// writeTo writes the families in Prometheus' text format, in the order
// they were first named.
func (w *MetricWriter) writeTo(out io.Writer) error {
	for _, f := range w.fams {
		if _, err := expfmt.MetricFamilyToText(out, f); err != nil {
			return fmt.Errorf("write metric family %s: %w", f.GetName(), err)
		}
	}
	return nil
}

// metricsContentType is the content type of the text format.
var metricsContentType = string(expfmt.NewFormat(expfmt.TypeTextPlain))
