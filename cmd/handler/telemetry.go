package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/tracing"
	"github.com/Azure/azure-sdk-for-go/sdk/tracing/azotel"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// serviceName is the default OTEL_SERVICE_NAME of the handler.
const serviceName = "orderpipeline-handler"

// telemetry holds the handler's trace and metric providers.
type telemetry struct {
	tracing  trace.TracerProvider
	metrics  metric.MeterProvider
	azure    tracing.Provider // the SDKs' spans, as children of ours
	shutdown func(context.Context) error
}

// newTelemetry exports traces and metrics over OTLP when the standard
// OpenTelemetry environment asks for it (OTEL_EXPORTER_OTLP_ENDPOINT or the
// per-signal *_TRACES_/*_METRICS_ENDPOINT; the exporters read the rest:
// headers, timeouts, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES). With none
// set, or OTEL_SDK_DISABLED=true, nothing is recorded: the providers are
// no-ops and cost nothing.
func newTelemetry(ctx context.Context, getenv func(string) string) (*telemetry, error) {
	off := &telemetry{tracing: tracenoop.NewTracerProvider(), metrics: metricnoop.NewMeterProvider(),
		shutdown: func(context.Context) error { return nil }}
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return off, nil
	}
	traces, metrics := exporting(getenv, "TRACES"), exporting(getenv, "METRICS")
	if !traces && !metrics {
		return off, nil
	}
	if p := getenv("OTEL_EXPORTER_OTLP_PROTOCOL"); p != "" && p != "http/protobuf" {
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL=%q: the handler exports http/protobuf", p)
	}
	// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the default name.
	res, err := resource.New(ctx, resource.WithAttributes(semconv.ServiceName(serviceName)), resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("telemetry resource: %w", err)
	}
	t := *off
	var closers []func(context.Context) error
	if traces {
		exp, err := otlptracehttp.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("otlp trace exporter: %w", err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
		t.tracing, closers = tp, append(closers, tp.Shutdown)
	}
	if metrics {
		exp, err := otlpmetrichttp.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("otlp metric exporter: %w", err)
		}
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp)), sdkmetric.WithResource(res))
		t.metrics, closers = mp, append(closers, mp.Shutdown)
	}
	t.azure = azotel.NewTracingProvider(t.tracing, nil)
	t.shutdown = func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		var errs []error
		for _, c := range closers {
			errs = append(errs, c(ctx))
		}
		return errors.Join(errs...)
	}
	return &t, nil
}

// exporting says whether a signal has an OTLP endpoint and is not turned
// off by OTEL_<SIGNAL>_EXPORTER=none.
func exporting(getenv func(string) string, signal string) bool {
	if getenv("OTEL_"+signal+"_EXPORTER") == "none" {
		return false
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_"+signal+"_ENDPOINT") != ""
}
