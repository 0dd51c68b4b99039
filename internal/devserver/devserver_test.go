package devserver_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/orderflow/orderflow/internal/devserver"
	"github.com/orderflow/orderflow/internal/pgdb"
	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
)

const (
	taskQueue  = "devserver-test"
	signalName = "proceed"
)

var customerIDKey = temporal.NewSearchAttributeKeyKeyword("CustomerId")

// waitForSignal tags itself with a customer and waits for one signal: an
// order paused at a human step, in miniature.
func waitForSignal(ctx workflow.Context, customerID string) (string, error) {
	if err := workflow.UpsertTypedSearchAttributes(ctx, customerIDKey.ValueSet(customerID)); err != nil {
		return "", fmt.Errorf("upsert CustomerId: %w", err)
	}
	var msg string
	workflow.GetSignalChannel(ctx, signalName).Receive(ctx, &msg)
	return "received " + msg, nil
}

// TestRestartResumesWorkflow stops the server while a workflow waits for a
// signal and checks that a new server on the same data dir delivers the
// signal, completes the workflow and finds it by its search attribute.
func TestRestartResumesWorkflow(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	testRestart(t, devserver.Options{DataDir: dataDir}, func(t *testing.T) {
		// Bytes 18 and 19 of a SQLite file header are 2 once the file is
		// in WAL mode; the pragmas reach SQLite only through the DSN the
		// plugin builds, so check they arrived.
		header := make([]byte, 20)
		f, err := os.Open(filepath.Join(dataDir, devserver.DBFileName))
		require.NoError(t, err)
		_, err = io.ReadFull(f, header)
		require.NoError(t, f.Close())
		require.NoError(t, err)
		require.Equal(t, []byte{2, 2}, header[18:20], "temporal.db is not in WAL mode")
	})
}

// TestRestartResumesWorkflowOnPostgres is TestRestartResumesWorkflow with
// Temporal's data in PostgreSQL: the first start creates the databases, the
// second finds them, schema and namespace in place.
func TestRestartResumesWorkflowOnPostgres(t *testing.T) {
	t.Parallel()
	stem := pgtest.NewURL(t)
	mainURL, visURL, err := devserver.PostgresDatabaseURLs(stem)
	require.NoError(t, err)
	t.Cleanup(func() { // after the servers' Stop: cleanups run last-in first-out
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, u := range []string{mainURL, visURL} {
			require.NoError(t, pgdb.DropDatabase(ctx, u))
		}
	})
	testRestart(t, devserver.Options{Store: devserver.StorePostgres, PostgresURL: stem}, func(t *testing.T) {
		// The workflow is in the main database, not in memory.
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, mainURL)
		require.NoError(t, err)
		defer conn.Close(ctx)
		var n int
		require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM current_executions WHERE workflow_id = $1`, restartWorkflowID).Scan(&n))
		require.Equal(t, 1, n)
	})
}

const restartWorkflowID = "order-restart-1"

// testRestart runs a workflow on a server started with store's options,
// stops the server mid-workflow, calls stopped, and finishes the workflow on
// a second server started with the same options.
func testRestart(t *testing.T, store devserver.Options, stopped func(t *testing.T)) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	logger := testLogger(t)
	withStore := func(o devserver.Options) devserver.Options {
		o.Store, o.DataDir, o.PostgresURL = store.Store, store.DataDir, store.PostgresURL
		return o
	}

	first, err := devserver.Start(ctx, withStore(devserver.Options{
		FrontendAddr:     "127.0.0.1:0",
		UIAddr:           "127.0.0.1:0",
		SearchAttributes: map[string]enums.IndexedValueType{"CustomerId": enums.INDEXED_VALUE_TYPE_KEYWORD},
		Logger:           logger,
	}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = first.Stop() })
	require.Equal(t, "default", first.Namespace())

	t.Run("UI answers", func(t *testing.T) {
		require.NotEmpty(t, first.UIURL())
		resp, err := http.Get(first.UIURL())
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, resp.Header.Get("Content-Type"), "text/html")

		// The page's data comes through the UI server's API, which must
		// reach the frontend.
		resp, err = http.Get(first.UIURL() + "/api/v1/namespaces/default")
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		require.Contains(t, string(body), "CustomerId")
	})

	t.Run("second server on a taken port", func(t *testing.T) {
		_, err := devserver.Start(ctx, devserver.Options{FrontendAddr: first.FrontendAddr()})
		require.ErrorContains(t, err, first.FrontendAddr()+" is in use: is another Temporal dev server running?")
	})

	workflowID := restartWorkflowID
	c, w := connect(t, first, logger)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflowID, TaskQueue: taskQueue}, waitForSignal, "X")
	require.NoError(t, err)
	// Stop only once the first workflow task is recorded, so the restart
	// has to resume a workflow that is truly mid-flight.
	require.Eventually(t, func() bool {
		desc, err := c.DescribeWorkflowExecution(ctx, workflowID, run.GetRunID())
		return err == nil && desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()["CustomerId"] != nil
	}, 20*time.Second, 100*time.Millisecond, "workflow never upserted CustomerId")
	w.Stop()
	c.Close()
	require.NoError(t, first.Stop())

	stopped(t)

	// The restart also asks for an attribute the file does not have yet.
	second, err := devserver.Start(ctx, withStore(devserver.Options{
		FrontendAddr: "127.0.0.1:0",
		SearchAttributes: map[string]enums.IndexedValueType{
			"CustomerId": enums.INDEXED_VALUE_TYPE_KEYWORD,
			"Priority":   enums.INDEXED_VALUE_TYPE_INT,
		},
		Logger: logger,
	}))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, second.Stop()) })
	require.Empty(t, second.UIURL())
	require.NotEqual(t, first.FrontendAddr(), second.FrontendAddr())

	c, w = connect(t, second, logger)
	defer c.Close()
	defer w.Stop()

	sas, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: second.Namespace()})
	require.NoError(t, err)
	require.Equal(t, enums.INDEXED_VALUE_TYPE_KEYWORD, sas.GetCustomAttributes()["CustomerId"])
	require.Equal(t, enums.INDEXED_VALUE_TYPE_INT, sas.GetCustomAttributes()["Priority"])

	require.NoError(t, c.SignalWorkflow(ctx, workflowID, "", signalName, "go"))
	var result string
	require.NoError(t, c.GetWorkflow(ctx, workflowID, "").Get(ctx, &result))
	require.Equal(t, "received go", result)

	// Visibility is written asynchronously after the workflow closes.
	var found []string
	require.Eventually(t, func() bool {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: second.Namespace(),
			Query:     `CustomerId = "X" AND ExecutionStatus = "Completed"`,
		})
		if err != nil {
			t.Logf("list workflows: %v", err)
			return false
		}
		found = found[:0]
		for _, e := range resp.GetExecutions() {
			found = append(found, e.GetExecution().GetWorkflowId())
		}
		return len(found) > 0
	}, 20*time.Second, 200*time.Millisecond, "completed workflow not found by CustomerId")
	require.Equal(t, []string{workflowID}, found)
}

// TestInMemoryServersAreSeparate runs two in-memory servers side by side, as
// parallel end-to-end tests in one binary do, and checks that neither sees the
// other's workflows.
func TestInMemoryServersAreSeparate(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	logger := testLogger(t)

	opts := devserver.Options{
		FrontendAddr:     "127.0.0.1:0",
		Namespace:        "orders",
		SearchAttributes: map[string]enums.IndexedValueType{"CustomerId": enums.INDEXED_VALUE_TYPE_KEYWORD},
		Logger:           logger,
	}
	a, err := devserver.Start(ctx, opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, a.Stop()) })
	b, err := devserver.Start(ctx, opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, b.Stop()) })
	require.Equal(t, "orders", a.Namespace())

	ca, w := connect(t, a, logger)
	defer ca.Close()
	defer w.Stop()
	run, err := ca.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "order-a", TaskQueue: taskQueue}, waitForSignal, "A")
	require.NoError(t, err)
	_, err = ca.DescribeWorkflowExecution(ctx, "order-a", run.GetRunID())
	require.NoError(t, err)

	cb, err := client.Dial(client.Options{HostPort: b.FrontendAddr(), Namespace: b.Namespace(), Logger: sdklog.NewStructuredLogger(logger)})
	require.NoError(t, err)
	defer cb.Close()
	_, err = cb.DescribeWorkflowExecution(ctx, "order-a", "")
	var notFound *serviceerror.NotFound
	require.ErrorAs(t, err, &notFound)
}

// connect dials srv and runs a worker for waitForSignal on it.
func connect(t *testing.T, srv *devserver.Server, logger *slog.Logger) (client.Client, worker.Worker) {
	t.Helper()
	c, err := client.Dial(client.Options{
		HostPort:  srv.FrontendAddr(),
		Namespace: srv.Namespace(),
		Logger:    sdklog.NewStructuredLogger(logger),
	})
	require.NoError(t, err)
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(waitForSignal)
	require.NoError(t, w.Start())
	return c, w
}

// testLogger sends Warn and above to the test log, and drops records that
// arrive after the test ended (the server's goroutines outlive Stop).
func testLogger(t *testing.T) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(w.close)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
}
