package sender

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the callback counters, shared by Hooks and its Dispatcher.
type metrics struct {
	requests *prometheus.CounterVec   // sdkappid, kind, result
	latency  *prometheus.HistogramVec // sdkappid, kind
	dropped  *prometheus.CounterVec   // reason
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chatd_callback_requests_total",
			Help: "Callback requests sent to apps, by sdkappid, kind (before|after) and result (ok|rejected|failed|timeout).",
		}, []string{"sdkappid", "kind", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "chatd_callback_request_seconds",
			Help:    "Time from sending a callback request to its answer (or failure), by sdkappid and kind.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 5},
		}, []string{"sdkappid", "kind"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chatd_callback_dropped_total",
			Help: "Callback events and log entries dropped, by reason (off: the app turned the command off; expired: older than the outbox's age bound; deleted: the app is deleted; log_full: a log entry found its queue full; log_unwritten: log entries the store refused, the outcomes being recorded without them).",
		}, []string{"reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.latency, m.dropped)
	}
	return m
}

func (m *metrics) request(app int64, kind, result string, d time.Duration) {
	id := strconv.FormatInt(app, 10)
	m.requests.WithLabelValues(id, kind, result).Inc()
	m.latency.WithLabelValues(id, kind).Observe(d.Seconds())
}
