// Command go_client talks to a ClickHouse HTTP endpoint the way the OpenTelemetry
// Collector's ClickHouse exporter and Grafana's ClickHouse plugin do (clickhouse-go v2 over
// HTTP): a Native batch insert, then queries, with the chosen compression.
//
//	go_client -addr 127.0.0.1:8123 -compress lz4 -table go_spans -rows 1000
//
// It prints one JSON line with what it read back.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8123", "host:port of the HTTP interface")
	method := flag.String("compress", "lz4", "lz4, zstd, gzip, deflate or none")
	table := flag.String("table", "go_spans", "table to create and fill")
	rows := flag.Int("rows", 1000, "rows to insert")
	user := flag.String("user", "default", "user")
	password := flag.String("password", "", "password")
	flag.Parse()
	if err := run(*addr, *method, *table, *rows, *user, *password); err != nil {
		fmt.Fprintln(os.Stderr, "go_client:", err)
		os.Exit(1)
	}
}

func compression(name string) (*clickhouse.Compression, error) {
	methods := map[string]clickhouse.CompressionMethod{
		"lz4": clickhouse.CompressionLZ4, "zstd": clickhouse.CompressionZSTD,
		"gzip": clickhouse.CompressionGZIP, "deflate": clickhouse.CompressionDeflate,
		"none": clickhouse.CompressionNone,
	}
	method, ok := methods[name]
	if !ok {
		return nil, fmt.Errorf("unknown compression %q", name)
	}
	return &clickhouse.Compression{Method: method}, nil
}

func run(addr, method, table string, rows int, user, password string) error {
	comp, err := compression(method)
	if err != nil {
		return err
	}
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:        []string{addr},
		Protocol:    clickhouse.HTTP,
		Auth:        clickhouse.Auth{Database: "default", Username: user, Password: password},
		Compression: comp,
		Settings:    clickhouse.Settings{"async_insert": 1},
		DialTimeout: 10 * time.Second,
	})
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx := context.Background()
	if err := conn.Ping(ctx); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	ddl := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS "default"."%s" (
		Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
		SpanId String,
		SpanName LowCardinality(String),
		Duration UInt64,
		SpanAttributes Map(LowCardinality(String), String),
		Events Nested (Timestamp DateTime64(9), Name LowCardinality(String))
	) ENGINE = MergeTree() ORDER BY (SpanName, Timestamp)`, table)
	if err := conn.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	batch, err := conn.PrepareBatch(ctx, fmt.Sprintf(`INSERT INTO "default"."%s" (
    Timestamp,
    SpanId,
    SpanName,
    Duration,
    SpanAttributes,
    Events.Timestamp,
    Events.Name
)`, table))
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	start := time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)
	for i := 0; i < rows; i++ {
		events := []time.Time{}
		names := []string{}
		if i%2 == 0 {
			events, names = []time.Time{start}, []string{"test.passed"}
		}
		if err := batch.Append(start.Add(time.Duration(i)*time.Second), fmt.Sprintf("%016x", i),
			fmt.Sprintf("component-%d", i%3), uint64(i), map[string]string{"mltrace.run.i": fmt.Sprint(i)},
			events, names); err != nil {
			return fmt.Errorf("append: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	var count uint64
	var total uint64
	if err := conn.QueryRow(ctx, fmt.Sprintf(`SELECT count(), sum(Duration) FROM "%s"`, table)).Scan(&count, &total); err != nil {
		return fmt.Errorf("count: %w", err)
	}
	var name, attr string
	var first time.Time
	var eventNames []string
	if err := conn.QueryRow(ctx, fmt.Sprintf(
		`SELECT SpanName, SpanAttributes['mltrace.run.i'], Timestamp, Events.Name FROM "%s" WHERE SpanId = $1`, table),
		fmt.Sprintf("%016x", 4)).Scan(&name, &attr, &first, &eventNames); err != nil {
		return fmt.Errorf("select: %w", err)
	}
	serverErr := conn.Exec(ctx, "SELECT * FROM no_such_table")
	out, _ := json.Marshal(map[string]any{
		"count": count, "sum": total, "name": name, "attr": attr,
		"timestamp": first.UTC().Format(time.RFC3339Nano), "events": eventNames,
		"error": fmt.Sprint(serverErr),
	})
	fmt.Println(string(out))
	return nil
}
