package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chatd/chatd/internal/bus/natsbus"
	"github.com/chatd/chatd/internal/errs"
	"github.com/chatd/chatd/internal/store/sqlstore"
)

// purgeLock is the store lock (store.Cluster.TryLock) of the retention purge:
// one node of a cluster purges at a time.
const purgeLock = "retention-purge"

// readyBus is a bus with a connection of its own to report (natsbus.Bus).
type readyBus interface{ Ready() error }

// readyz answers one line per dependency, "store: ok" and, on a cluster,
// "nats: ok", "nats: not connected" or "nats: another node runs with node
// id …", then "ready" with 200 when all are ok,
// else "not ready" with 503. Storage errors are logged, never answered.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() {
		http.Error(w, "not serving: starting or shutting down", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var b strings.Builder
	ok := true
	if _, err := s.cfg.Store.GetAccount(ctx, "readyz-probe"); err != nil && !errors.Is(err, errs.ErrNotFound) {
		// The error may name the database's host and user: logged, not answered.
		s.cfg.Logger.Warn("readyz: store unavailable", "err", err)
		b.WriteString("store: unavailable (see the server log)\n")
		ok = false
	} else {
		b.WriteString("store: ok\n")
	}
	if rb, isCluster := s.Bus.(readyBus); isCluster {
		if err := rb.Ready(); err != nil {
			b.WriteString("nats: " + err.Error() + "\n") // the bus's own words, no address
			ok = false
		} else {
			b.WriteString("nats: ok\n")
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
		b.WriteString("not ready\n")
	} else {
		b.WriteString("ready\n")
	}
	_, _ = w.Write([]byte(b.String()))
}

// BusMetrics are the metrics of a NATS bus: Hooks feeds them, and the server
// registers them (a bus is built before the server that uses it).
type BusMetrics struct {
	published, received, dropped, resyncs prometheus.Counter
	invalidations                         *prometheus.CounterVec
	connected, nodes                      prometheus.Gauge
	routes                                *prometheus.GaugeVec
}

// NewBusMetrics returns the metrics of a bus, unregistered.
func NewBusMetrics() *BusMetrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	}
	return &BusMetrics{
		published: counter("chatd_bus_messages_published_total", "NATS messages published by this node."),
		received:  counter("chatd_bus_messages_received_total", "NATS messages received by this node."),
		dropped:   counter("chatd_bus_messages_dropped_total", "NATS messages not sent or not used (too large, malformed, slow consumer); the devices concerned resync."),
		resyncs:   counter("chatd_bus_presence_resyncs_total", "Presence snapshots taken from another node after a gap."),
		invalidations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chatd_bus_invalidations_received_total",
			Help: "Invalidations of cached state received from other nodes, by kind."}, []string{"kind"}),
		connected: gauge("chatd_bus_connected", "1 while this node is connected to NATS (a single node: 0)."),
		nodes:     gauge("chatd_bus_nodes", "Live nodes seen on the bus, this one included."),
		routes: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "chatd_bus_routes",
			Help: "NATS subscriptions of this node: kind user (users with a device here) or group (their groups)."}, []string{"kind"}),
	}
}

// Hooks returns the natsbus hooks that feed m.
func (m *BusMetrics) Hooks() natsbus.Metrics {
	return natsbus.Metrics{
		Published: func(n int) { m.published.Add(float64(n)) },
		Received:  func(n int) { m.received.Add(float64(n)) },
		Dropped:   m.dropped.Inc,
		Connected: func(up bool) {
			if up {
				m.connected.Set(1)
			} else {
				m.connected.Set(0)
			}
		},
		Nodes:   func(n int) { m.nodes.Set(float64(n)) },
		Resyncs: m.resyncs.Inc,
		Invalid: func(kind string) { m.invalidations.WithLabelValues(kind).Inc() },
		Routes: func(users, groups int) {
			m.routes.WithLabelValues("user").Set(float64(users))
			m.routes.WithLabelValues("group").Set(float64(groups))
		},
	}
}

// registerClusterMetrics registers chatd_node_info and the bus's metrics.
func registerClusterMetrics(reg prometheus.Registerer, cfg Config) {
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "chatd_node_info",
		Help: "1, labelled with this node's id, its store (sqlite or postgres) and its bus (local or nats)."},
		[]string{"node", "store", "bus"})
	kind := "local"
	if _, ok := cfg.Bus.(*natsbus.Bus); ok {
		kind = "nats"
	}
	info.WithLabelValues(cfg.NodeID, storeKind(cfg.Store), kind).Set(1)
	m := cfg.BusMetrics
	m.routes.WithLabelValues("user")
	m.routes.WithLabelValues("group")
	reg.MustRegister(info, m.published, m.received, m.dropped, m.resyncs, m.invalidations, m.connected, m.nodes, m.routes)
}

// storeKind names the engine of st: sqlite (the embedded store) or postgres.
func storeKind(st any) string {
	if d, ok := st.(interface{ Dialect() sqlstore.Dialect }); ok {
		return d.Dialect().Name
	}
	return "unknown"
}
