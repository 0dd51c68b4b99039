//go:build !nodev

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
)

func TestCostPerOrderDividesTheDifferenceByTheOrders(t *testing.T) {
	t.Parallel()
	without := memReading{HeapAlloc: 100 << 20, HeapInuse: 110 << 20, StackInuse: 4 << 20, Goroutines: 300}
	with := memReading{HeapAlloc: 150 << 20, HeapInuse: 170 << 20, StackInuse: 14 << 20, Goroutines: 8300}
	got, err := costPerOrder(with, without, 1000)
	if err != nil {
		t.Fatal(err)
	}
	// 60 MiB of heap and stacks and 8000 goroutines more for 1000 orders.
	want := orderCost{Orders: 1000, LiveBytes: 60 << 20 / 1000.0, HeapInuseBytes: 60 << 20 / 1000.0, StackBytes: 10 << 20 / 1000.0, Goroutines: 8}
	if got != want {
		t.Errorf("costPerOrder = %+v; want %+v", got, want)
	}
	// A process that freed more than the orders held shows it.
	if got, _ := costPerOrder(without, with, 100); got.LiveBytes >= 0 || got.Goroutines != -80 {
		t.Errorf("costPerOrder, the other way round = %+v; want negative", got)
	}
	if _, err := costPerOrder(with, without, 0); err == nil || !strings.HasPrefix(err.Error(), "orders:") {
		t.Errorf("costPerOrder over 0 orders: %v; want an error about orders", err)
	}
}

func TestCachedOrdersAreTheParkedUpToTheCacheSize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ parked, cache, want int }{
		{500, 0, 500}, {20000, 0, 10000}, {500, 100, 100}, {50, 100, 50},
	} {
		if got := cachedOrders(tc.parked, tc.cache); got != tc.want {
			t.Errorf("cachedOrders(%d, %d) = %d; want %d", tc.parked, tc.cache, got, tc.want)
		}
	}
}

// TestBenchSizingMeasuresCachedOrders runs `orderflow bench -sizing` as a
// user would, small: the orders park at AWAITING_PAYMENT, and each cached
// one holds goroutines and memory in the worker that a stopped worker gives
// back.
func TestBenchSizingMeasuresCachedOrders(t *testing.T) {
	t.Setenv("DATABASE_URL", pgtest.AdminURL())
	out := filepath.Join(t.TempDir(), "sizing.json")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"bench", "-sizing", "-orders", "6", "-concurrency", "3", "-poll", "20ms", "-memory", "-json", out}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("bench -sizing: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	for _, want := range []string{"6 parked at AWAITING_PAYMENT, 0 failed", "per cached order", "orders per CPU-second"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, stdout.String())
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got sizingRun
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Report.Completed != 6 || got.PerCachedOrder.Orders != 6 || got.StickyCache != defaultStickyCache || got.CPUSeconds <= 0 {
		t.Errorf("sizing JSON: %+v", got)
	}
	// The order workflow runs several coroutines, each a goroutine with its
	// stack while the order is cached; stopping the worker ends them. (The
	// live heap of six orders is within the heap readings' noise of a MiB
	// or two, so this small run does not judge it.)
	if c := got.PerCachedOrder; c.Goroutines < 2 || c.StackBytes <= 0 {
		t.Errorf("per cached order: %+v; want at least 2 goroutines and their stacks", c)
	}
	if got.Stopped.Goroutines >= got.Cached.Goroutines-6*2 {
		t.Errorf("goroutines: %d cached, %d with the worker stopped; want the cached orders' gone", got.Cached.Goroutines, got.Stopped.Goroutines)
	}
	if err := run(context.Background(), []string{"bench", "-sizing", "-api", "http://127.0.0.1:1"}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "in-process") {
		t.Errorf("bench -sizing -api: %v; want a refusal naming the in-process stack", err)
	}
}
