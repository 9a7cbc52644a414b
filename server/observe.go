package server

import (
	"database/sql"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/agentos-sessions/agentos-sessions/handlers"
	"github.com/agentos-sessions/agentos-sessions/server/gate"
)

// observer measures and logs every request, counts what deletes remove and
// serves it all at GET /metrics. Each server has its own registry, so tests
// and several servers in one process never share counters.
type observer struct {
	logger          *slog.Logger
	registry        *prometheus.Registry
	requests        *prometheus.CounterVec
	durations       *prometheus.HistogramVec
	sessionsDeleted prometheus.Counter
	runsDeleted     prometheus.Counter
}

// Pooler is implemented by a Resolver that can report the connection pool
// of each database it opened (store.Catalog does); /metrics then exports
// their statistics, labelled by database id.
type Pooler interface {
	Pools() map[string]*sql.DB
}

func newObserver(dbs handlers.Resolver, logger *slog.Logger) *observer {
	o := &observer{
		logger:   logger,
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agentos_http_requests_total",
			Help: "HTTP requests served, by operationId (or route outside the document), method and status.",
		}, []string{"operation", "method", "status"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "agentos_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by operationId (or route outside the document), method and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation", "method", "status"}),
		sessionsDeleted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agentos_sessions_deleted_total",
			Help: "Sessions removed by DELETE /sessions and DELETE /sessions/{session_id}.",
		}),
		runsDeleted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agentos_runs_deleted_total",
			Help: "Runs removed with their sessions, where the store counted them: bulk deletes that asked for a report (Prefer: return=representation).",
		}),
	}
	o.registry.MustRegister(o.requests, o.durations, o.sessionsDeleted, o.runsDeleted,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if p, ok := dbs.(Pooler); ok {
		for id, db := range p.Pools() {
			o.registry.MustRegister(collectors.NewDBStatsCollector(db, id))
		}
	}
	return o
}

// metricsHandler serves the registry in the Prometheus text format.
func (o *observer) metricsHandler() echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(o.registry, promhttp.HandlerOpts{Registry: o.registry}))
}

// middleware renders the request's error (so the status is known), then
// records the request's metrics and writes its one access-log line. It runs
// outside the recover middleware, so a panic is measured as its 500.
func (o *observer) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		elapsed := time.Since(start)
		req, status := c.Request(), c.Response().Status
		route := c.Path()
		operation := route
		if op, ok := gate.Operation(c); ok {
			operation = op.OperationID
		} else if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
			operation = "unmatched" // bounded labels whatever paths clients try
		}
		code := strconv.Itoa(status)
		o.requests.WithLabelValues(operation, req.Method, code).Inc()
		o.durations.WithLabelValues(operation, req.Method, code).Observe(elapsed.Seconds())
		o.logger.LogAttrs(req.Context(), slog.LevelInfo, "request",
			slog.String("method", req.Method),
			slog.String("route", route),
			slog.String("path", req.URL.Path),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
			slog.String("request_id", requestID(c)),
		)
		return nil
	}
}

// SessionsDeleted counts sessions a delete removed (store.DeleteCounter).
func (o *observer) SessionsDeleted(n int64) { o.sessionsDeleted.Add(float64(n)) }

// RunsDeleted counts runs a delete removed with its sessions
// (store.DeleteCounter).
func (o *observer) RunsDeleted(n int64) { o.runsDeleted.Add(float64(n)) }
