package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"time"
)

// MetricsNamespace is the CloudWatch namespace of the function's metrics.
const MetricsNamespace = "ddblake"

// SummaryMessage is the msg of the per-invocation summary line.
const SummaryMessage = "batch"

// Metric names, as they appear in the Embedded Metric Format line.
const (
	MetricRecords       = "Records"
	MetricRows          = "Rows"
	MetricSetAside      = "SetAside"
	MetricBytes         = "Bytes"
	MetricFailedRecords = "FailedRecords"
	MetricIteratorAge   = "IteratorAgeMs"
	MetricDuration      = "DurationMs"
)

// report writes the invocation's summary line and its metrics line.
func (h *Handler) report(inv *invocation, start, end time.Time) {
	duration := end.Sub(start).Milliseconds()
	var age int64
	if inv.oldest != 0 {
		age = max(0, end.UnixMilli()-inv.oldest/1000)
	}
	cause := inv.err
	if cause == nil {
		cause = inv.cause
	}
	level := slog.LevelInfo
	switch {
	case inv.err != nil:
		level = slog.LevelError
	case inv.failedFrom != "" || cause != nil || len(inv.res.OverCap) > 0:
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("request_id", inv.requestID),
		slog.String("batch_id", inv.batch.ID),
		slog.String("event_source", inv.source),
		slog.String("event_source_arn", inv.arn),
		slog.Int("records", inv.res.Records),
		slog.Int("rows", inv.res.Rows),
		slog.Int("set_aside", inv.res.SetAside),
		slog.Int("misfits", inv.res.Misfits),
		slog.Int("files", inv.res.Files),
		slog.Int64("bytes", inv.res.Bytes),
		slog.Any("tables", tableRows(inv.res.TableRows)),
		slog.String("failed_from", inv.failedFrom),
		slog.Int("failed_records", inv.failedRecs),
		slog.Int64("iterator_age_ms", age),
		slog.Int64("duration_ms", duration),
	}
	if inv.shard != "" {
		attrs = append(attrs, slog.String("shard", inv.shard))
	}
	if len(inv.res.OverCap) > 0 {
		// Each path once per function instance: the Processor remembers
		// the paths it reported.
		paths := make([]string, len(inv.res.OverCap))
		for i, o := range inv.res.OverCap {
			paths[i] = o.Table + ": " + o.Path
		}
		attrs = append(attrs, slog.Any("over_column_cap", paths))
	}
	if cause != nil {
		attrs = append(attrs, slog.String("error", cause.Error()),
			slog.Bool("deadline", errors.Is(cause, context.DeadlineExceeded)))
	}

	h.outMu.Lock()
	defer h.outMu.Unlock()
	log := slog.New(slog.NewJSONHandler(h.Out, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				a.Value = slog.TimeValue(end.UTC())
			}
			return a
		},
	}))
	log.LogAttrs(context.Background(), level, SummaryMessage, attrs...)
	h.writeMetrics(h.Out, inv, end, age, duration)
}

// tableRows is the rows per table, never nil (an empty JSON object).
func tableRows(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}

// emfMetric declares one metric of an EMF line.
type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// writeMetrics writes one CloudWatch Embedded Metric Format line: the
// invocation's counts under the function name dimension.
func (h *Handler) writeMetrics(w io.Writer, inv *invocation, end time.Time, age, duration int64) {
	type directive struct {
		Namespace  string      `json:"Namespace"`
		Dimensions [][]string  `json:"Dimensions"`
		Metrics    []emfMetric `json:"Metrics"`
	}
	type meta struct {
		Timestamp         int64       `json:"Timestamp"`
		CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
	}
	line := struct {
		AWS           meta   `json:"_aws"`
		FunctionName  string `json:"FunctionName"`
		Records       int    `json:"Records"`
		Rows          int    `json:"Rows"`
		SetAside      int    `json:"SetAside"`
		Bytes         int64  `json:"Bytes"`
		FailedRecords int    `json:"FailedRecords"`
		IteratorAgeMs int64  `json:"IteratorAgeMs"`
		DurationMs    int64  `json:"DurationMs"`
	}{
		AWS: meta{Timestamp: end.UnixMilli(), CloudWatchMetrics: []directive{{
			Namespace:  MetricsNamespace,
			Dimensions: [][]string{{"FunctionName"}},
			Metrics: []emfMetric{
				{MetricRecords, "Count"}, {MetricRows, "Count"}, {MetricSetAside, "Count"},
				{MetricBytes, "Bytes"}, {MetricFailedRecords, "Count"},
				{MetricIteratorAge, "Milliseconds"}, {MetricDuration, "Milliseconds"},
			},
		}}},
		FunctionName: h.FunctionName, Records: inv.res.Records, Rows: inv.res.Rows,
		SetAside: inv.res.SetAside, Bytes: inv.res.Bytes, FailedRecords: inv.failedRecs,
		IteratorAgeMs: age, DurationMs: duration,
	}
	b, _ := json.Marshal(line)
	_, _ = w.Write(append(b, '\n'))
}
